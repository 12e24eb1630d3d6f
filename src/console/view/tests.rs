//! What the reviewer sees, at 80x24 and 120x40: text snapshots plus the styles snapshots
//! cannot show.

use super::view;
use crate::console::action::Action;
use crate::console::fixtures::{detail, opened, report_job, rows};
use crate::console::state::{Pane, State};
use crate::console::theme::Theme;
use crate::console::update::update;
use crate::domain::AttemptStatus;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

fn draw(state: &mut State, w: u16, h: u16) -> Buffer {
    update(state, Action::Resize(w, h));
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| view(state, f)).unwrap();
    t.backend().buffer().clone()
}

fn text(b: &Buffer) -> String {
    let w = b.area.width as usize;
    b.content
        .chunks(w)
        .map(|row| {
            row.iter()
                .map(|c| c.symbol())
                .collect::<String>()
                .trim_end()
                .to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn key(state: &mut State, k: KeyCode) {
    update(state, Action::Key(KeyEvent::new(k, KeyModifiers::NONE)));
}

fn scenes() -> Vec<(&'static str, State)> {
    let mut quiz = opened();
    key(&mut quiz, KeyCode::Esc);
    let sessions = opened();
    let mut detail_pane = opened();
    key(&mut detail_pane, KeyCode::Enter);
    let mut confirm = opened();
    key(&mut confirm, KeyCode::Char('f'));
    for c in "phone in hand".chars() {
        key(&mut confirm, KeyCode::Char(c));
    }
    let mut help = opened();
    key(&mut help, KeyCode::Char('?'));
    let mut out = vec![
        ("quiz_list", quiz),
        ("sessions", sessions),
        ("learner_detail", detail_pane),
        ("confirm_fail", confirm),
        ("help", help),
    ];
    let mut reports = opened();
    key(&mut reports, KeyCode::Esc);
    key(&mut reports, KeyCode::Char('R'));
    if let Some(v) = reports.reports.as_mut() {
        v.request = None;
        let mut failed = report_job(4, crate::domain::JobState::Failed);
        failed.last_error = Some("cannot write the report: No space left on device".into());
        v.list = Some(crate::api::ReportList {
            pending: vec![report_job(5, crate::domain::JobState::Running), failed],
            available: vec![report_job(2, crate::domain::JobState::Done)],
        });
    }
    out.push(("reports", reports));
    // The Team view with a week of work: two reviewers, one of them seconded.
    let mut team = opened();
    key(&mut team, KeyCode::Char('T'));
    if let Some(v) = team.team.as_mut() {
        use crate::domain::stats::{Backlog, Entry, tally};
        let now = time::macros::datetime!(2026-11-12 15:00 UTC);
        let at = |d: u8| {
            time::Date::from_calendar_date(2026, time::Month::November, d)
                .unwrap()
                .with_hms(10, 0, 0)
                .unwrap()
                .assume_utc()
        };
        let entry = |session: i64, who: &str, d: u8, verdict: &str| Entry {
            session_id: session,
            reviewer: who.into(),
            decided_at: at(d),
            verdict: verdict.into(),
            opened_secs: Some(u32::from(d) * 7),
            // Each decision took its learner out of the backlog; they had waited a week.
            moved: Some(true),
            session_completed: Some(at(d.saturating_sub(7).max(1))),
        };
        let mut entries = Vec::new();
        for (i, d) in [3u8, 5, 5, 8, 9, 9, 9, 11, 12, 12].iter().enumerate() {
            let who = if i % 3 == 0 { "bo" } else { "ada" };
            let verdict = if i % 4 == 0 { "pass" } else { "fail" };
            entries.push(entry(i as i64, who, *d, verdict));
        }
        entries.push(entry(90, "bo", 11, "first-fail"));
        entries.push(entry(90, "ada", 12, "confirm-fail"));
        let backlog = Backlog {
            require_attention: 42,
            awaiting_second_review: 3,
            oldest_waiting_since: Some(at(1)),
            completed_by_day: vec![(at(10).date(), 4), (at(12).date(), 6)],
        };
        let since = now.date() - time::Duration::days(6);
        v.stats = Some(tally(
            "course-v1:TestX+T1+2026",
            now,
            since,
            backlog,
            &entries,
        ));
        v.request = None;
    }
    out.push(("team", team));
    // Counts are read whole: 500 sessions in one exam, 250,000 in another.
    let mut big = opened();
    key(&mut big, KeyCode::Esc);
    let set = |e: &mut crate::domain::ExamSummary, c: [u64; 5]| {
        e.counts = crate::domain::ExamCounts {
            require_attention: c[0],
            pending: c[1],
            passed: c[2],
            failed: c[3],
            sessions: c[4],
            awaiting_second_review: 0,
            yours_awaiting: 0,
        };
    };
    set(
        &mut big.quizzes.courses[0].exams[0],
        [174, 62, 139, 48, 500],
    );
    set(
        &mut big.quizzes.courses[0].exams[1],
        [17_400, 6_200, 213_900, 12_500, 250_000],
    );
    out.push(("quiz_list_large_counts", big));
    for (name, n) in [
        ("tab_video", '2'),
        ("tab_violations", '3'),
        ("tab_scans", '4'),
        ("tab_onboarding", '5'),
        ("tab_history", '6'),
    ] {
        let mut s = opened();
        key(&mut s, KeyCode::Enter);
        key(&mut s, KeyCode::Char(n));
        out.push((name, s));
    }
    out
}

/// A real demo screenshot, drawn with half-blocks as on a terminal that reports no
/// graphics protocol, put where the runner would put it.
fn with_preview(state: &mut State) {
    let asset = crate::demo::evidence::assets()
        .iter()
        .find(|a| a.name == "shots/phone.jpg")
        .unwrap();
    let img = image::load_from_memory(asset.bytes).unwrap();
    let picker = crate::console::images::choose::<()>(Err(()));
    let p = state.detail.preview.as_mut().expect("a preview is wanted");
    let proto = picker
        .new_protocol(
            img,
            ratatui::layout::Size::new(p.size.0, p.size.1),
            ratatui_image::Resize::Scale(None),
        )
        .unwrap();
    p.request = None;
    p.image = Some(crate::console::state::PreviewImage(std::sync::Arc::new(
        proto,
    )));
}

#[test]
fn the_preview_falls_back_to_half_blocks_and_stays_in_its_box() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut s = opened();
        key(&mut s, KeyCode::Enter);
        key(&mut s, KeyCode::Char('3'));
        update(&mut s, Action::Resize(w, h));
        with_preview(&mut s);
        let b = draw(&mut s, w, h);
        let t = text(&b);
        insta::assert_snapshot!(format!("violations_with_preview_{w}x{h}"), t);
        let blocks = t.chars().filter(|c| matches!(c, '▀' | '▄' | '█')).count();
        assert!(blocks > 50, "the image is drawn with half-blocks:\n{t}");
        let region = crate::console::layout::detail_pane(&s)
            .and_then(|p| crate::console::layout::detail_regions(&s, p).preview)
            .unwrap();
        for (y, line) in t.lines().enumerate() {
            for (x, c) in line.chars().enumerate() {
                if matches!(c, '▀' | '▄') {
                    let (x, y) = (x as u16, y as u16);
                    assert!(
                        x >= region.x && x < region.right() && y > region.y && y < region.bottom(),
                        "a half-block at {x},{y} is outside the preview {region:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn the_timeline_counts_overlapping_violations_and_marks_the_selected_one() {
    let mut s = opened();
    key(&mut s, KeyCode::Enter);
    key(&mut s, KeyCode::Char('3'));
    let t = text(&draw(&mut s, 80, 24));
    let lines: Vec<&str> = t.lines().collect();
    // The phone (5:00) and looking away (5:10) share a cell at this width.
    assert!(lines[3].contains("─2─"), "{t}");
    assert!(
        lines[3].contains('t'),
        "the tab switch, Suspicious, in lower case"
    );
    assert!(
        lines[4]
            .trim_start_matches('┃')
            .trim_start()
            .starts_with("▲ 00:05:00 P Phone detected"),
        "{t}"
    );
    key(&mut s, KeyCode::Char('j'));
    key(&mut s, KeyCode::Char('j'));
    let t = text(&draw(&mut s, 80, 24));
    assert!(
        t.contains("00:40:00 t Switched browser tab"),
        "the marker follows the selection:\n{t}"
    );
    let wide = text(&draw(&mut s, 300, 50));
    assert!(
        wide.lines().nth(3).unwrap().contains("Pl"),
        "wide enough, they part:\n{wide}"
    );
}

#[test]
fn long_values_stay_whole_or_shorten_in_the_middle_and_more_is_marked() {
    let mut s = opened();
    let mut d = detail(&rows()[0]);
    d.row.learner.email = "wojciech.kowalski.the.third@learners.example.edu".into();
    s.detail.data = Some(d);
    key(&mut s, KeyCode::Enter);
    let t = text(&draw(&mut s, 80, 24));
    assert!(
        !t.lines().any(|l| l.trim_end().ends_with('·')),
        "no value cut off after a separator"
    );
    assert!(t.contains("▼"), "more below is marked:\n{t}");
    for _ in 0..40 {
        key(&mut s, KeyCode::Char('j'));
    }
    let t = text(&draw(&mut s, 80, 24));
    assert!(t.contains("▲") && t.contains("more above"), "{t}");
    assert!(!t.contains("more below"), "the end is on screen:\n{t}");
    key(&mut s, KeyCode::Char('g'));
    let narrow = text(&draw(&mut s, 40, 30));
    let lines: Vec<&str> = narrow.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("Email"))
        .expect("the email row");
    assert!(
        lines[at].contains("Email        wojciech.kow….example.edu"),
        "an email keeps both ends on its row, never wrapped mid-token:\n{narrow}"
    );
}

#[test]
fn every_pane_at_80x24_and_120x40() {
    for (name, mut state) in scenes() {
        for (w, h) in [(80, 24), (120, 40)] {
            let b = draw(&mut state, w, h);
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), text(&b));
        }
    }
}

#[test]
fn the_focused_row_is_reversed_and_marked_so_it_shows_without_colour() {
    let mut s = opened();
    let b = draw(&mut s, 80, 24);
    let row = (0..24)
        .find(|&y| {
            text(&b)
                .lines()
                .nth(y as usize)
                .unwrap_or("")
                .contains("▶ ⚑")
        })
        .expect("marked row");
    let cell = &b[(5, row)];
    assert!(cell.modifier.contains(Modifier::REVERSED));
    assert!(
        b.content.iter().all(|c| c.fg == Color::Reset),
        "plain theme draws no colour"
    );
}

#[test]
fn colour_only_repeats_a_glyph_or_word() {
    let mut s = opened();
    s.theme = Theme { color: true };
    let b = draw(&mut s, 120, 40);
    let t = text(&b);
    for (glyph, word) in [("⚑", "Require Attention"), ("✔", "Passed")] {
        assert!(t.contains(&format!("{glyph} {word}")), "{glyph} {word}");
    }
    assert!(
        b.content.iter().any(|c| c.fg == Color::Yellow),
        "attention is also coloured"
    );
}

#[test]
fn escape_sequences_in_learner_data_never_reach_the_terminal() {
    let mut s = opened();
    let hostile = "Eve\u{1b}]0;pwned\u{7}\u{1b}[2J Mallory";
    let mut d = detail(&rows()[0]);
    d.row.learner.full_name = hostile.into();
    s.sessions.rows[0].learner.full_name = hostile.into();
    s.detail.data = Some(d);
    key(&mut s, KeyCode::Enter);
    let b = draw(&mut s, 120, 40);
    assert!(
        b.content
            .iter()
            .all(|c| !c.symbol().chars().any(char::is_control))
    );
    assert!(text(&b).contains("Eve␛]0;pwned␇␛[2J Mallory"));
}

#[test]
fn at_80_columns_one_pane_fills_the_screen_and_the_title_says_where_you_are() {
    let mut s = opened();
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.focus, Pane::Detail);
    let t = text(&draw(&mut s, 80, 24));
    assert!(
        t.lines()
            .next()
            .unwrap()
            .contains("Quiz List › Midterm › Ana")
    );
    assert!(!t.contains("Quiz List ─"), "only the focused pane is drawn");
    s.sessions.rows[0].status = AttemptStatus::Rejected;
}

#[test]
fn tiny_and_odd_terminal_sizes_never_panic() {
    for (name, mut state) in scenes() {
        for (w, h) in [
            (1, 1),
            (2, 3),
            (10, 5),
            (20, 8),
            (33, 11),
            (79, 23),
            (300, 90),
        ] {
            let b = draw(&mut state, w, h);
            assert_eq!(b.area.width, w, "{name} at {w}x{h}");
        }
    }
}

/// Where `needle` is drawn in `b`.
fn find(b: &Buffer, needle: &str) -> (u16, u16) {
    let w = b.area.width as usize;
    for (y, row) in b.content.chunks(w).enumerate() {
        let line: String = row.iter().map(|c| c.symbol()).collect();
        if let Some(byte) = line.find(needle) {
            let x = line[..byte].chars().count();
            return (x as u16, y as u16);
        }
    }
    panic!("'{needle}' is not on screen:\n{}", text(b));
}

fn mouse(kind: crossterm::event::MouseEventKind, (column, row): (u16, u16)) -> Action {
    Action::Mouse(crossterm::event::MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    })
}

#[test]
fn clicks_land_on_what_is_drawn_there() {
    use crate::console::action::Effect;
    use crossterm::event::{MouseButton, MouseEventKind as M};
    let click = M::Down(MouseButton::Left);
    let mut s = opened();
    let b = draw(&mut s, 120, 40);
    let fx = update(&mut s, mouse(click, find(&b, "Chen")));
    assert_eq!(s.sessions.selected().map(|r| r.id), Some(13));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::LoadDetail { session: 13, .. }))
    );
    let b = draw(&mut s, 120, 40);
    update(&mut s, mouse(click, find(&b, "Chen")));
    assert_eq!(s.focus, Pane::Detail, "a second click opens the row");

    key(&mut s, KeyCode::Esc);
    let b = draw(&mut s, 120, 40);
    let fx = update(&mut s, mouse(click, find(&b, "Final")));
    assert_eq!(s.focus, Pane::Sessions);
    assert!(
        matches!(
            &fx[..],
            [Effect::LoadSessions {
                list: crate::console::action::ListId::Exam(2),
                ..
            }]
        ),
        "{fx:?}"
    );

    let mut s = opened();
    let b = draw(&mut s, 120, 40);
    update(&mut s, mouse(M::ScrollDown, find(&b, "Bo")));
    assert_eq!(
        s.sessions.cursor, 3,
        "the wheel moves three rows, clamped to the list"
    );

    let mut s = opened();
    key(&mut s, KeyCode::Char('f'));
    assert!(s.dialog.is_some());
    let before = s.sessions.cursor;
    let b = draw(&mut s, 120, 40);
    update(&mut s, mouse(click, find(&b, "Passed")));
    assert!(
        s.dialog.is_some() && s.sessions.cursor == before,
        "the mouse cannot touch a decision"
    );
}

#[test]
fn at_80_columns_clicks_go_to_the_one_pane_shown() {
    use crossterm::event::{MouseButton, MouseEventKind as M};
    let mut s = opened();
    let b = draw(&mut s, 80, 24);
    update(&mut s, mouse(M::Down(MouseButton::Left), find(&b, "Dee")));
    assert_eq!(s.sessions.selected().map(|r| r.id), Some(14));
}

#[test]
fn an_open_edx_delivery_shows_as_a_glyph_in_sessions_and_words_in_detail() {
    let mut s = opened();
    let plain = text(&draw(&mut s, 120, 40));
    assert!(!plain.contains('⇅'), "no LMS column without an LMS");
    let failed = Some(crate::domain::LmsSync {
        state: crate::domain::LmsState::Failed,
        note: Some("the reviewer's email is not an Open edX user".into()),
    });
    s.sessions.rows[0].lms = failed.clone();
    s.detail.data.as_mut().unwrap().row.lms = failed;
    let screen = text(&draw(&mut s, 120, 40));
    assert!(screen.contains('⇅') && screen.contains('✗'), "{screen}");
    assert!(screen.contains("✗ delivery to Open edX"), "{screen}");
    assert!(screen.contains("an Open edX user"), "{screen}");
}

/// The terminal's own idea of where each cell lands (vt100, which advances by each
/// codepoint's width as most terminals do) must match what ratatui drew, for names full of
/// hostile text: control and format characters, separators, bidi marks, combining marks,
/// emoji sequences, wide scripts. A mismatch is ghost text or a pushed-out border.
#[test]
fn hostile_names_never_move_a_cell_out_of_its_column() {
    const PIECES: &[&str] = &[
        "a",
        "Zoë",
        "陈",
        "静",
        "محمد",
        "e\u{301}",
        "\u{1b}[2J",
        "\u{7}",
        "\u{9b}",
        "\u{202E}",
        "\u{2066}",
        "\u{2028}",
        "\u{2029}",
        "\u{00AD}",
        "\u{0600}",
        "\u{06DD}",
        "\u{200B}",
        "\u{200C}",
        "\u{200D}",
        "\u{FEFF}",
        "👨",
        "👩",
        "👧",
        "🇵",
        "🇱",
        "🏽",
        "\u{FE0F}",
        "❤",
        "🏳",
        "🌈",
        "\u{E0041}",
        "\u{FF9E}",
        "ｱ",
        "ह",
        "्",
        " ",
        "\t",
        "\r\n",
    ];
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (w, h) = (80u16, 24u16);
    for round in 0..150 {
        let mut s = opened();
        for row in s.sessions.rows.iter_mut() {
            let len = 1 + next() % 12;
            let name: String = (0..len)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            row.learner.full_name = name.clone();
            row.learner.username = name;
        }
        update(&mut s, Action::Resize(w, h));
        let bytes = SharedBytes::default();
        let backend = ratatui::backend::CrosstermBackend::new(bytes.clone());
        let mut t = Terminal::with_options(
            backend,
            ratatui::TerminalOptions {
                viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, w, h)),
            },
        )
        .unwrap();
        let frame = t.draw(|f| view(&s, f)).unwrap().buffer.clone();
        let mut vt = vt100::Parser::new(h, w, 0);
        vt.process(&bytes.0.borrow());
        // Every single-codepoint cell ratatui drew (borders, column text, glyphs) must be
        // where the terminal shows it; multi-codepoint clusters may be split differently.
        for y in 0..h {
            for x in 0..w {
                let drawn = frame[(x, y)].symbol();
                if drawn.chars().count() != 1 || drawn == " " {
                    continue;
                }
                let shown = vt.screen().cell(y, x).map(|c| c.contents().to_owned());
                assert_eq!(
                    shown.as_deref(),
                    Some(drawn),
                    "round {round}: cell ({x},{y}) moved; names: {:?}",
                    s.sessions
                        .rows
                        .iter()
                        .map(|r| &r.learner.full_name)
                        .collect::<Vec<_>>()
                );
            }
        }
    }
}

/// What the backend wrote, kept for the terminal emulator to read.
#[derive(Clone, Default)]
struct SharedBytes(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl std::io::Write for SharedBytes {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn the_status_bar_never_cuts_a_word_and_hides_news_about_another_learner_under_a_dialog() {
    let mut s = opened();
    s.say(
        crate::console::state::Tone::Info,
        "This session is still loading; press again once its details show.",
    );
    let b = draw(&mut s, 80, 24);
    let bar = text(&b).lines().last().unwrap().to_owned();
    assert!(
        bar.contains("This session is still loading; press again once its details show."),
        "{bar}"
    );
    s.say(
        crate::console::state::Tone::Info,
        "word ".repeat(30).trim_end().to_owned() + " end",
    );
    let bar = text(&draw(&mut s, 80, 24))
        .lines()
        .last()
        .unwrap()
        .to_owned();
    assert!(bar.contains("word word… (m shows all)"), "{bar}");

    key(&mut s, KeyCode::Char('f'));
    s.say_about(
        12,
        crate::console::state::Tone::Info,
        "ada failed Bo just now",
    );
    let screen = text(&draw(&mut s, 120, 40));
    assert!(!screen.contains("ada failed Bo"), "{screen}");
    s.say_about(
        11,
        crate::console::state::Tone::Info,
        "ada failed Ana just now",
    );
    let screen = text(&draw(&mut s, 120, 40));
    assert!(screen.contains("ada failed Ana just now"), "{screen}");
}

#[test]
fn a_search_total_counted_only_so_far_says_so() {
    let mut s = opened();
    key(&mut s, KeyCode::Char('/'));
    for c in "edu".chars() {
        key(&mut s, KeyCode::Char(c));
    }
    key(&mut s, KeyCode::Enter);
    let request = s.sessions.request.expect("the search was asked for");
    let Action::SessionsLoaded {
        result: Ok(mut page),
        ..
    } = crate::console::fixtures::page_of(request, 0, rows(), 2_000)
    else {
        unreachable!()
    };
    page.at_least = true;
    update(
        &mut s,
        Action::SessionsLoaded {
            request,
            result: Ok(page),
        },
    );
    let t = text(&draw(&mut s, 120, 40));
    assert!(t.contains("2,000+/"), "at least 2,000 match:\n{t}");
    page_exact(&mut s);
    let t = text(&draw(&mut s, 120, 40));
    assert!(t.contains("2,000/") && !t.contains("2,000+"), "{t}");
}

/// The same search answered with an exact count.
fn page_exact(s: &mut State) {
    key(s, KeyCode::Char('/'));
    key(s, KeyCode::Enter);
    let request = s.sessions.request.expect("asked again");
    update(
        s,
        crate::console::fixtures::page_of(request, 0, rows(), 2_000),
    );
}

/// Issue #23: a learner's name is what a reviewer reads first. At every width, in the queue
/// and in an exam, before and after decisions (a decided row brings a Status column), each
/// name on screen shows whole or keeps at least sixteen cells, and the queue's header never
/// counts more shown than there are rows.
#[test]
fn learner_names_stay_readable_at_every_width_before_and_after_decisions() {
    use crate::console::fixtures::{queue_with, row};
    let names = [
        "Tumaini Mwangi",
        "فاطمه حسینی",
        "田中 優子",
        "Wojciech Kowalski-Nowakowski",
        "Eva van der Berg-Jansen",
    ];
    let listed = |decided: bool| -> Vec<crate::domain::SessionRow> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let status = if decided && i == 0 {
                    AttemptStatus::Rejected
                } else {
                    AttemptStatus::SecondReviewRequired
                };
                row(20 + i as i64, n, status)
            })
            .collect()
    };
    for decided in [false, true] {
        for in_queue in [true, false] {
            for width in (60..=220).step_by(4) {
                let mut s = if in_queue {
                    queue_with(listed(decided))
                } else {
                    let mut s = opened();
                    s.sessions.rows = listed(decided);
                    s
                };
                s.focus = Pane::Sessions;
                let screen = text(&draw(&mut s, width, 40));
                // A wide character's second cell reads as a space here: compared without.
                let squeeze = |t: &str| t.replace(' ', "");
                let table: Vec<String> = screen.lines().map(squeeze).collect();
                for name in names {
                    let whole = table.iter().any(|l| l.contains(&squeeze(name)));
                    let kept: String = {
                        let mut used = 0;
                        name.chars()
                            .take_while(|c| {
                                used += unicode_width::UnicodeWidthChar::width(*c).unwrap_or(0);
                                used <= 15
                            })
                            .collect()
                    };
                    assert!(
                        whole || table.iter().any(|l| l.contains(&squeeze(&kept))),
                        "{name} unreadable at {width} (queue: {in_queue}, decided: {decided}):\n{screen}"
                    );
                }
                if in_queue {
                    assert!(
                        !screen.contains("/19 shown") && !screen.contains("5/4"),
                        "{screen}"
                    );
                }
            }
        }
    }
}

/// Issue #23: a revoked or expired token leaves no zombie console: the first refused
/// answer replaces the lists with one plain message, nothing more is asked, and only q
/// does anything.
#[test]
fn a_refused_token_ends_the_console_plainly_with_nothing_left_standing() {
    use crate::client::ClientError;
    use crate::console::action::Effect;
    let mut s = opened();
    let fx = update(
        &mut s,
        Action::SessionsLoaded {
            request: 999,
            result: Err(ClientError::Unauthorized("unknown or revoked token".into())),
        },
    );
    assert!(fx.is_empty(), "nothing more is asked: {fx:?}");
    for k in ['j', 'f', 'r'] {
        let fx = update(
            &mut s,
            Action::Key(KeyEvent::new(KeyCode::Char(k), KeyModifiers::NONE)),
        );
        assert!(fx.is_empty(), "{k}: {fx:?}");
    }
    let screen = text(&draw(&mut s, 120, 40));
    assert!(
        screen.contains("Your access to this server has ended"),
        "{screen}"
    );
    assert!(screen.contains("unknown or revoked token") && screen.contains("q quits"));
    assert!(!screen.contains("Ana"), "no list left standing:\n{screen}");
    let fx = update(
        &mut s,
        Action::Key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE)),
    );
    assert_eq!(fx, vec![Effect::Quit]);
}

/// A reviewer with no grants is told that, not that the server is empty.
#[test]
fn a_reviewer_without_grants_is_told_how_to_get_a_course() {
    let (mut s, request) = crate::console::fixtures::started();
    update(
        &mut s,
        Action::MeLoaded(Ok(crate::api::Me {
            reviewer: crate::domain::Reviewer {
                id: 3,
                username: "mira".into(),
                email: "mira@example.edu".into(),
                full_name: "Mira".into(),
                role: crate::domain::Role::Reviewer,
            },
            grants: vec![],
        })),
    );
    update(
        &mut s,
        Action::CoursesLoaded {
            request,
            result: Ok(vec![]),
        },
    );
    let screen = text(&draw(&mut s, 160, 40));
    assert!(
        screen.contains("You have no courses on this server yet"),
        "{screen}"
    );
    assert!(!screen.contains("The server has no proctored exams"));
}

/// Issue #23: a search belongs to the list it was made in, says how to clear it when it
/// hides everything, and does not follow the reviewer to another list.
#[test]
fn a_search_stays_in_its_list_and_says_how_to_clear_it() {
    let mut s = opened();
    s.focus = Pane::Sessions;
    key(&mut s, KeyCode::Char('/'));
    for c in "jose".chars() {
        key(&mut s, KeyCode::Char(c));
    }
    key(&mut s, KeyCode::Enter);
    // The search's answer: nothing matches.
    s.sessions.rows.clear();
    s.sessions.total = 0;
    s.sessions.request = None;
    let screen = text(&draw(&mut s, 120, 40));
    assert!(
        screen.contains("No session matches the search \"jose\" — / then Esc")
            && screen.contains("clears it."),
        "{screen}"
    );
    // To the Quiz List and up onto the queue: it opens unfiltered.
    key(&mut s, KeyCode::Esc);
    key(&mut s, KeyCode::Esc);
    s.focus = Pane::Quizzes;
    key(&mut s, KeyCode::Char('k'));
    assert!(
        matches!(
            s.sessions.listing,
            Some(crate::console::state::Listing::Queue)
        ),
        "{:?}",
        s.sessions.listing
    );
    assert_eq!(s.sessions.search.value(), "");
}

/// Issue #23: q during an undo window says what happens to the decision and asks for a
/// second q; any other key stays.
#[test]
fn quitting_inside_an_undo_window_says_what_happens_and_asks_again() {
    use crate::console::action::Effect;
    use crate::console::state::UndoOffer;
    let mut s = opened();
    let now = time::OffsetDateTime::now_utc();
    s.now = Some(now);
    s.embedded = true;
    s.undo = Some(UndoOffer {
        session: 11,
        learner: "Ana".into(),
        verdict: crate::domain::Verdict::Fail,
        until: now + time::Duration::seconds(20),
        message: String::new(),
        request: None,
    });
    let press = |s: &mut State, c: char| {
        update(
            s,
            Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
        )
    };
    assert!(press(&mut s, 'q').is_empty(), "the first q only asks");
    let screen = text(&draw(&mut s, 160, 40));
    assert!(
        screen.contains("q again quits: the Fail of Ana stands, its email goes now")
            && screen.contains("u to undo (20 s)"),
        "{screen}"
    );
    press(&mut s, 'j');
    assert!(press(&mut s, 'q').is_empty(), "another key took the q back");
    assert_eq!(press(&mut s, 'q'), vec![Effect::Quit]);
    // Once the window has passed, q quits at once.
    s.quit_armed = false;
    s.now = Some(now + time::Duration::seconds(30));
    assert_eq!(press(&mut s, 'q'), vec![Effect::Quit]);
}

#[test]
fn a_moment_that_cannot_play_says_why_and_which_keys_do_instead_and_the_sheet_labels_stills() {
    let mut s = opened();
    key(&mut s, KeyCode::Enter);
    key(&mut s, KeyCode::Char('3'));
    key(&mut s, KeyCode::Char(' '));
    let request = s.detail.play.as_ref().and_then(|p| p.request).unwrap();
    update(
        &mut s,
        Action::FramesLoaded {
            request,
            result: Err(
                "this recording is WebM and the server has no ffmpeg to draw its frames".into(),
            ),
            done: true,
        },
    );
    let t = text(&draw(&mut s, 120, 40));
    assert!(
        t.contains("⚠ cannot play it here: this recording is WebM"),
        "{t}"
    );
    assert!(
        t.contains("o opens it in a player, y copies its link"),
        "{t}"
    );
    assert!(t.contains("❚❚ paused") || t.contains("▶ playing"), "{t}");

    // The contact sheet: each still's time, ▶ on the cursor's, the flagged letter.
    key(&mut s, KeyCode::Esc);
    key(&mut s, KeyCode::Char('2'));
    key(&mut s, KeyCode::Char('c'));
    let request = s.detail.sheet.as_ref().and_then(|p| p.request).unwrap();
    update(
        &mut s,
        Action::SheetLoaded {
            request,
            result: Ok((0..12)
                .map(|i| (i * 1_000, crate::console::fixtures::blank_image()))
                .collect()),
        },
    );
    key(&mut s, KeyCode::Char(']'));
    let t = text(&draw(&mut s, 120, 40));
    assert!(
        t.contains("▶00:05:00 P"),
        "the cursor on the phone's still:\n{t}"
    );
    assert!(t.contains(" 00:04:56"), "{t}");
    assert!(t.contains("still 5/12 at 00:05:00"), "{t}");
}
