//! One review's trip to the LMS: post it to the callback, then read the attempt back from
//! the staff listing and check it reached the status the review should give it. The LMS
//! answers "OK" even when it quietly did something else (an unknown `reviewed_by`), so only
//! the read-back says a decision has really landed.

use super::client::{LmsError, LmsHttp};
use crate::domain::AttemptStatus;
use crate::domain::lms::{read_back_refused_note, unknown_reviewer_note};
use crate::domain::words::Word;
use crate::store::{LmsClient, LmsReviewJob};

/// How one delivery ended, before retry policy.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    Confirmed(AttemptStatus),
    /// Worth trying again later (network, 5xx).
    Transient(String),
    /// Will not work by itself; the reason is for the reviewer.
    Refused(String),
}

fn from_error(stage: &str, e: LmsError) -> Delivery {
    if e.retryable() {
        Delivery::Transient(format!("{stage}: {e}"))
    } else {
        Delivery::Refused(format!("{stage}: {e}"))
    }
}

pub async fn deliver(http: &LmsHttp, client: &LmsClient, job: &LmsReviewJob) -> Delivery {
    if let Err(e) = http
        .post_review(client, &job.external_id, &job.callback)
        .await
    {
        return from_error("review callback", e);
    }
    let found = match http
        .find_attempt(client, &job.course_id, &job.learner_email, &job.external_id)
        .await
    {
        Ok(found) => found,
        Err(LmsError::Refused {
            status: 403,
            detail,
        }) if detail.contains("Staff") => {
            return Delivery::Refused(read_back_refused_note(
                &client.lms_client_id,
                &job.course_id,
                &detail,
            ));
        }
        Err(e) => return from_error("accepted, but reading the attempt back failed", e),
    };
    let Some(attempt) = found else {
        return Delivery::Refused(format!(
            "accepted, but Open edX lists no attempt '{}' for {} in {}",
            job.external_id, job.learner_email, job.course_id
        ));
    };
    let now: Option<AttemptStatus> = attempt.status.parse().ok();
    match now {
        Some(s) if s == job.expect => Delivery::Confirmed(s),
        Some(AttemptStatus::SecondReviewRequired) if job.expect == AttemptStatus::Rejected => {
            Delivery::Refused(unknown_reviewer_note(
                job.callback.reviewed_by.as_deref().unwrap_or(""),
            ))
        }
        _ => Delivery::Refused(format!(
            "Open edX shows the attempt as '{}' after our review; expected '{}'",
            attempt.status,
            job.expect.as_str()
        )),
    }
}
