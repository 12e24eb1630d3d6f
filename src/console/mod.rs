//! The terminal console. Keys, pastes and resizes become actions; `update` turns actions
//! into state changes and effects; the runner performs effects and answers with actions;
//! `view` draws the state. Nothing on this road waits on the network.
//!
//! May use: `client`, `export`, `api`, `domain`; `update` and `view` never each other.

pub mod action;
pub mod clipboard;
pub mod detail_text;
pub mod evidence;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod format;
pub mod images;
pub mod keymap;
pub mod layout;
pub mod opener;
pub mod playback;
pub mod resume;
pub mod runner;
pub mod sheet;
pub mod state;
pub mod terminal;
pub mod theme;
pub mod timeline;
pub mod update;
pub mod view;

use action::{Action, Effect};
use crossterm::event::EventStream;
use futures_util::StreamExt;
use runner::Runner;
use state::State;
use std::io::IsTerminal;
use std::sync::Arc;
use terminal::TerminalGuard;
use theme::Theme;
use tokio::sync::mpsc;

pub struct Options {
    /// The keys in force.
    pub keys: keymap::Keymap,
    /// Where this server's last run left off; it is read at start unless `fresh`, and
    /// written when the reviewer quits.
    pub places: resume::Places,
    pub fresh: bool,
    /// Capture the mouse (click and wheel); off by default so terminal text selection works.
    pub mouse: bool,
    /// How (and whether) evidence images are previewed.
    pub images: images::ImageMode,
    /// Where downloaded reports and exports are saved.
    pub export_dir: std::path::PathBuf,
    /// The server runs inside this process (the demo): it stops when the console does.
    pub embedded: bool,
}

/// Runs the console against `client` until the reviewer quits.
pub async fn run(client: crate::client::ApiClient, options: Options) -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "the console needs a terminal; run `proctor-review serve` for a headless server"
        );
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<Action>();
    let mut guard = TerminalGuard::enter(options.mouse)?;
    // Before the event stream starts reading, so the terminal's answer is not taken for keys.
    let picker = images::picker(options.images);
    tracing::info!(images = images::describe(picker.as_ref()), "image previews");
    let size = guard.terminal.size()?;
    let mut state = State::new(
        client.server_label(),
        Theme::from_env(),
        size.width,
        size.height,
    );
    state.images = picker.is_some();
    state.run_id = run_id();
    state.export_dir = options.export_dir;
    state.embedded = options.embedded;
    state.keys = options.keys;
    if !options.fresh {
        state.resume = options.places.load();
    }
    let runner = Runner::new(client.clone(), tx, picker, Arc::new(opener::SystemOpener));
    let mut events = EventStream::new();

    runner.run(update::update(&mut state, Action::Start));
    loop {
        guard.terminal.draw(|f| view::view(&state, f))?;
        let first = tokio::select! {
            biased;
            Some(a) = rx.recv() => a,
            ev = events.next() => match ev {
                Some(Ok(ev)) => match Action::from_event(ev) {
                    Some(a) => a,
                    None => continue,
                },
                Some(Err(e)) => return Err(e.into()),
                None => break,
            },
        };
        // Apply everything already queued, then draw once.
        let mut pending = vec![first];
        while let Ok(a) = rx.try_recv() {
            pending.push(a);
        }
        let (mut quit, mut suspend) = (false, false);
        for action in pending {
            let mut effects = update::update(&mut state, action);
            // Leaving, suspending and the clipboard are the terminal's, not the runner's.
            let mut copy = Vec::new();
            effects.retain(|e| {
                quit |= *e == Effect::Quit;
                suspend |= *e == Effect::Suspend;
                if let Effect::Clipboard(text) = e {
                    copy.push(text.clone());
                }
                !matches!(e, Effect::Quit | Effect::Suspend | Effect::Clipboard(_))
            });
            for text in copy {
                clipboard::copy(guard.terminal.backend_mut(), &text)?;
            }
            runner.run(effects);
        }
        if quit {
            break;
        }
        if suspend {
            guard.suspend(options.mouse)?;
        }
    }
    drop(guard);
    // The learner this console was on is free for the others now, not when the claim
    // would have expired; a server that does not answer soon lets it expire.
    if let Some((session, _)) = state.presence.held {
        let _ =
            tokio::time::timeout(std::time::Duration::from_secs(2), client.release(session)).await;
    }
    if let Some(place) = state.place()
        && let Err(e) = options.places.save(&place)
    {
        tracing::warn!(error = %e, "could not remember where the reviewer was");
    }
    Ok(())
}

/// 128 random bits, so the idempotency keys of different runs never meet.
fn run_id() -> String {
    crate::random::hex::<16>().unwrap_or_else(|_| format!("pid-{}", std::process::id()))
}
