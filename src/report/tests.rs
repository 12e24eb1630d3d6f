//! The report against a golden file written by Python's own `csv.writer` (default dialect)
//! from the same values passed through `str()`, as the platform does.

use super::*;
use time::macros::datetime;

fn row() -> ReportRow {
    ReportRow {
        course_id: "course-v1:MITx+6.0001x+2026_Fall".into(),
        provider: Some("proctortrack".into()),
        track: "verified".into(),
        exam_name: "Midterm Exam".into(),
        username: "wkowalski".into(),
        email: "wkowalski@learners.example.edu".into(),
        attempt_code: "0A1B2C3D-0000-4000-8000-000000000001".into(),
        allowed_time_limit_mins: Some(90),
        is_sample_attempt: false,
        started_at: Some(datetime!(2026-11-13 19:11:02.123456 UTC)),
        completed_at: Some(datetime!(2026-11-13 19:47:56 UTC)),
        status: "second_review_required".into(),
        review_status: Some("Suspicious".into()),
        suspicious: vec!["Looked away, twice".into(), "Said \"hi\" to someone".into()],
        rules_violation: vec!["Phone\nin hand".into()],
    }
}

fn render(rows: &[ReportRow], raw: bool) -> String {
    let mut w = writer(Vec::new());
    w.write_record(HEADER).unwrap();
    for r in rows {
        w.write_record(cells(r, raw).iter().map(|c| c.as_bytes()))
            .unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

#[test]
fn rows_match_the_platforms_golden_file() {
    let practice = ReportRow {
        exam_name: "Proctoring Onboarding".into(),
        username: "=HYPERLINK(\"http://x\")".into(),
        allowed_time_limit_mins: None,
        is_sample_attempt: true,
        started_at: None,
        completed_at: None,
        status: "created".into(),
        review_status: None,
        suspicious: vec![],
        rules_violation: vec![],
        provider: None,
        ..row()
    };
    let got = render(&[row(), practice.clone()], false);
    assert_eq!(got, include_str!("golden/report.csv"));
    let raw = render(&[practice], true);
    assert!(
        raw.contains(",\"=HYPERLINK(\"\"http://x\"\")\","),
        "raw cells are left as they are:\n{raw}"
    );
}

#[test]
fn datetimes_print_as_python_str_does() {
    assert_eq!(
        py_datetime(datetime!(2026-11-13 19:11:02.000001 UTC)),
        "2026-11-13 19:11:02.000001+00:00"
    );
    assert_eq!(
        py_datetime(datetime!(2026-11-13 20:11:02 +1)),
        "2026-11-13 19:11:02+00:00"
    );
}

#[test]
fn formula_cells_are_neutralized() {
    for s in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
        assert_eq!(neutralize(s), format!("'{s}"));
    }
    assert_eq!(neutralize("Ana"), "Ana");
    assert_eq!(neutralize(""), "");
}

#[test]
fn file_names_follow_the_platform() {
    let t = datetime!(2026-11-25 19:07:33 UTC);
    assert_eq!(
        file_name("course-v1:edX+DemoX+Demo_Course", t),
        "edX_DemoX_Demo_Course_proctored_exam_results_report_2026-11-25-1907.csv"
    );
    assert_eq!(
        file_name("edX/Old Course/2013 T1", t),
        "edX_Old_Course_2013_T1_proctored_exam_results_report_2026-11-25-1907.csv"
    );
    assert_eq!(
        course_prefix("course-v1:Org/../+Crs!$+Ré Run"),
        "Org.._Crs_Ré_Run"
    );
    assert_eq!(
        course_prefix("course-v1:../+/+.."),
        "..__..",
        "no separator survives"
    );
    assert_eq!(course_prefix("../"), "course");
    assert_eq!(course_prefix("course-v1:X+Y"), "course-v1XY");
}
