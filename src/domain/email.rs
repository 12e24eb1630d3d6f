//! The learner emails a decision sends, as text. Delivery lives in the server.

use super::decision::{DecisionPlan, EmailKind};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LearnerEmail {
    pub to_name: String,
    pub to_address: String,
    pub subject: String,
    pub body: String,
}

pub struct EmailContext<'a> {
    pub learner_name: &'a str,
    pub learner_email: &'a str,
    pub exam_name: &'a str,
    pub course_id: &'a str,
    pub contact: &'a str,
}

pub fn learner_email(plan: &DecisionPlan, ctx: &EmailContext<'_>) -> Option<LearnerEmail> {
    let kind = plan.email?;
    let (subject, body) = match kind {
        EmailKind::Rejected => {
            let grade = match plan.grade_after {
                Some(g) => format!("Your grade for this exam has been set to {g}.\n\n"),
                None => String::new(),
            };
            (
                "Proctoring attempt rejected",
                format!(
                    "Dear {name},\n\n\
                     Your proctored exam \"{exam}\" in {course} was reviewed, and the course team \
                     identified one or more violations of the proctored exam rules. You did not pass \
                     the proctoring review.\n\n{grade}\
                     If you believe this is a mistake, contact the course team at {contact}.\n",
                    name = ctx.learner_name,
                    exam = ctx.exam_name,
                    course = ctx.course_id,
                    contact = ctx.contact,
                ),
            )
        }
        EmailKind::Verified => {
            let restored = match (plan.reverts_fail, plan.grade_after) {
                (true, Some(g)) => format!("Your original grade of {g} has been restored.\n\n"),
                _ => String::new(),
            };
            (
                "Proctoring attempt verified",
                format!(
                    "Dear {name},\n\n\
                     Your proctored exam \"{exam}\" in {course} was reviewed and met all proctoring \
                     requirements. Your proctoring session passed review.\n\n{restored}\
                     Questions? Contact the course team at {contact}.\n",
                    name = ctx.learner_name,
                    exam = ctx.exam_name,
                    course = ctx.course_id,
                    contact = ctx.contact,
                ),
            )
        }
    };
    Some(LearnerEmail {
        to_name: ctx.learner_name.to_owned(),
        to_address: ctx.learner_email.to_owned(),
        subject: subject.to_owned(),
        body: wrap(&body, 72),
    })
}

/// Breaks lines at spaces so none is longer than `width` characters: the way plain-text
/// email is written, and what lets the body travel unencoded (readable in any `.eml`).
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / width);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let mut len = 0;
        for (j, word) in line.split(' ').enumerate() {
            let w = word.chars().count();
            if j > 0 {
                if len + 1 + w > width {
                    out.push('\n');
                    len = 0;
                } else {
                    out.push(' ');
                    len += 1;
                }
            }
            out.push_str(word);
            len += w;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_breaks_long_lines_at_spaces_only() {
        let text = "Your proctored exam was reviewed and met all proctoring requirements and more words.\n\nBye";
        let wrapped = wrap(text, 30);
        assert!(
            wrapped.lines().all(|l| l.chars().count() <= 30),
            "{wrapped}"
        );
        assert_eq!(
            wrapped
                .replace('\n', " ")
                .split_whitespace()
                .collect::<Vec<_>>(),
            text.split_whitespace().collect::<Vec<_>>()
        );
        assert!(wrapped.ends_with("\n\nBye"));
        assert_eq!(wrap("陈静 short", 72), "陈静 short");
    }
}

/// Where a decision's learner email is: what History says, and never more than is true.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EmailDelivery {
    /// The email job; `proctor-review mail retry --job` takes it.
    pub job: i64,
    pub state: MailState,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// Why the last attempt failed (while retrying, or for good).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailState {
    /// Waiting for (another) delivery attempt.
    Queued,
    Delivered,
    /// The retry budget is spent; an admin can queue it again.
    Failed,
    /// Never sent: the decision was undone within its grace period.
    Cancelled,
}

impl EmailDelivery {
    /// "email queued", "email delivered", "email failed: …", with a glyph so the meaning
    /// does not rest on colour.
    pub fn describe(&self) -> String {
        match (self.state, &self.error) {
            (MailState::Delivered, _) => "✉ email delivered".into(),
            (MailState::Cancelled, _) => "⊘ email not sent: the decision was undone".into(),
            (MailState::Queued, None) => "… email queued".into(),
            (MailState::Queued, Some(e)) => format!(
                "… email queued, retrying (attempt {} failed: {})",
                self.attempts,
                super::text::printable(e)
            ),
            (MailState::Failed, e) => format!(
                "✗ email failed after {} attempts: {} — an admin can retry it (mail job {})",
                self.attempts,
                super::text::printable(e.as_deref().unwrap_or("unknown error")),
                self.job
            ),
        }
    }
}
