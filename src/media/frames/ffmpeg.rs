//! Everything openh264 does not take (browsers' WebM above all) is decoded by the `ffmpeg`
//! program, when the server has one: it writes 8 pictures a second as PPM to a pipe, each
//! with its own small header, and the wanted ones are kept as they arrive.

use super::{Collector, FramesError};
use crate::domain::frames::{DENSE_EVERY_MS, FramePack, MAX_WIDTH};
use image::RgbImage;
use std::io::{BufRead, BufReader, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `--ffmpeg PATH` when given (`none`: without one), else `ffmpeg` on `PATH`.
pub fn find(given: Option<&Path>) -> Option<PathBuf> {
    match given {
        Some(p) if p == Path::new("none") => return None,
        Some(p) => return Some(p.to_owned()),
        None => {}
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("ffmpeg"))
        .find(|p| p.is_file())
}

/// Reads one PPM picture (`P6\nW H\n255\n` then W×H×3 bytes); `None` at the end.
fn read_ppm(r: &mut impl BufRead) -> Result<Option<RgbImage>, FramesError> {
    let mut header = Vec::new();
    let mut lines = 0;
    while lines < 3 {
        let mut line = Vec::new();
        if r.read_until(b'\n', &mut line)? == 0 {
            return if header.is_empty() {
                Ok(None)
            } else {
                Err(FramesError::Decode(
                    "ffmpeg's output ends in a header".into(),
                ))
            };
        }
        header.extend_from_slice(&line);
        lines += 1;
    }
    let text = String::from_utf8_lossy(&header);
    let mut words = text.split_ascii_whitespace();
    let bad = || FramesError::Decode(format!("ffmpeg wrote an odd picture header {text:?}"));
    if words.next() != Some("P6") {
        return Err(bad());
    }
    let mut number = || -> Result<u32, FramesError> {
        words.next().and_then(|w| w.parse().ok()).ok_or_else(bad)
    };
    let (w, h, max) = (number()?, number()?, number()?);
    if max != 255 || w == 0 || h == 0 || w > 8192 || h > 8192 {
        return Err(bad());
    }
    let mut rgb = vec![0; w as usize * h as usize * 3];
    r.read_exact(&mut rgb)?;
    Ok(RgbImage::from_raw(w, h, rgb))
}

pub fn derive(
    program: &Path,
    source: &Path,
    length_hint_ms: Option<u64>,
    flagged: &[Range<u64>],
) -> Result<FramePack, FramesError> {
    let fps = 1000 / DENSE_EVERY_MS;
    let mut child = Command::new(program)
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(source)
        .args([
            "-an",
            "-vf",
            &format!("fps={fps},scale='min({MAX_WIDTH},iw)':-2"),
            "-f",
            "image2pipe",
            "-c:v",
            "ppm",
            "-",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(FramesError::Ffmpeg)?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| FramesError::Decode("ffmpeg gave no output".into()))?;
    let mut stderr = child.stderr.take();
    // Its complaints are read aside, so a chatty ffmpeg never blocks on a full pipe.
    let complaints = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(e) = stderr.as_mut() {
            let _ = e.take(8 * 1024).read_to_string(&mut text);
        }
        text
    });
    let mut collect = Collector::new(length_hint_ms, flagged);
    let mut reader = BufReader::with_capacity(256 * 1024, stdout);
    let mut n = 0u64;
    let result = loop {
        match read_ppm(&mut reader) {
            Ok(Some(image)) => {
                let at_ms = n * DENSE_EVERY_MS;
                n += 1;
                if let Some(sheet) = collect.wants(at_ms)
                    && let Err(e) = collect.keep(at_ms, sheet, image)
                {
                    break Err(e);
                }
                if collect.done() {
                    break Ok(());
                }
            }
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    // Stopping early (every moment drawn) or on an error: ffmpeg need not go on.
    let _ = child.kill();
    let status = child.wait().map_err(FramesError::Ffmpeg)?;
    let said = complaints.join().unwrap_or_default();
    result?;
    if n == 0 {
        return Err(FramesError::Decode(if said.trim().is_empty() {
            format!("ffmpeg drew no pictures ({status})")
        } else {
            format!("ffmpeg: {}", said.trim())
        }));
    }
    collect.finish(DENSE_EVERY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_are_read_one_by_one_and_an_odd_header_is_an_error() {
        let mut two = b"P6\n2 1\n255\n".to_vec();
        two.extend([1, 2, 3, 4, 5, 6]);
        two.extend(b"P6\n1 1\n255\n\x07\x08\x09");
        let mut r = std::io::Cursor::new(two);
        let first = read_ppm(&mut r).unwrap().unwrap();
        assert_eq!((first.width(), first.get_pixel(1, 0).0), (2, [4, 5, 6]));
        assert_eq!(
            read_ppm(&mut r).unwrap().unwrap().get_pixel(0, 0).0,
            [7, 8, 9]
        );
        assert!(read_ppm(&mut r).unwrap().is_none());
        let mut odd = std::io::Cursor::new(b"P5\n1 1\n255\n\x00".to_vec());
        assert!(read_ppm(&mut odd).is_err());
        let missing = derive(Path::new("/nonexistent/ffmpeg"), Path::new("x"), None, &[]);
        assert!(matches!(missing, Err(FramesError::Ffmpeg(_))));
    }
}
