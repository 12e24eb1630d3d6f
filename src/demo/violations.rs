//! Violations as a proctoring provider reports them: a kind, when in the recording, and the
//! reviewer's comment.

use super::rng::Rng;
use crate::domain::{Violation, ViolationKind};
use strum::VariantArray;

fn comment(kind: ViolationKind, variant: u32) -> &'static str {
    use ViolationKind as K;
    let options: &[&str] = match kind {
        K::SecondPerson => &[
            "A second person entered the frame and stood behind the learner.",
            "Another face visible at the left edge of the webcam view.",
        ],
        K::NoFace => &[
            "No face in the webcam view.",
            "Webcam covered or pointed away from the learner.",
        ],
        K::LookingAway => &[
            "Learner repeatedly looked down and to the right, off screen.",
            "Sustained gaze away from the screen.",
        ],
        K::Phone => &[
            "Mobile phone visible in the learner's hand.",
            "Phone screen lit up on the desk and the learner picked it up.",
        ],
        K::TabSwitch => &[
            "Browser focus left the exam tab.",
            "Navigated to another website during the exam.",
        ],
        K::CopyPaste => &[
            "Text pasted into an answer field.",
            "Question text copied to the clipboard.",
        ],
        K::SecondMonitor => &[
            "A second display was connected during the exam.",
            "Learner's eyes tracked to a screen outside the webcam view.",
        ],
        K::LeftRoom => &[
            "Learner left the room for several minutes.",
            "Learner stood up and walked out of view.",
        ],
        K::Voices => &[
            "Voices heard in the room.",
            "Learner appeared to be talking with someone.",
        ],
        K::UnauthorizedApp => &[
            "A messaging application was running.",
            "A spreadsheet application was opened during the exam.",
        ],
    };
    options[variant as usize % options.len()]
}

/// Rule-breaking kinds are reported as "Rules Violation", the rest as "Suspicious".
fn status_of(kind: ViolationKind) -> &'static str {
    match kind {
        ViolationKind::Phone
        | ViolationKind::SecondPerson
        | ViolationKind::SecondMonitor
        | ViolationKind::UnauthorizedApp => "Rules Violation",
        _ => "Suspicious",
    }
}

pub fn generate(rng: &mut Rng, id: i64, recording_secs: i64) -> Violation {
    let kind = ViolationKind::VARIANTS[rng.below(ViolationKind::VARIANTS.len() as u32) as usize];
    let span = recording_secs.max(1) as u32;
    let start = i64::from(rng.below(span));
    let duration = (5 + i64::from(rng.below(115)))
        .min(recording_secs - start)
        .max(0);
    Violation {
        id,
        start_time: start,
        stop_time: start + duration,
        duration,
        kind,
        status: status_of(kind).to_owned(),
        comment: comment(kind, rng.below(2)).to_owned(),
    }
}
