//! H.264 in MP4, decoded in-process: the `mp4` crate reads the samples, openh264 (built from
//! its bundled source) decodes them. MP4 stores each picture's NAL units with length
//! prefixes and its parameter sets once in the header; openh264 wants start codes and the
//! parameter sets in the stream, so each sample is rewritten on the way in.

use super::{Collector, FramesError};
use crate::domain::frames::FramePack;
use image::RgbImage;
use openh264::decoder::{Decoder, DecoderConfig, Flush};
use openh264::formats::YUVSource;
use std::io::BufReader;
use std::ops::Range;
use std::path::Path;

const START: [u8; 4] = [0, 0, 0, 1];

fn bad(e: impl std::fmt::Display) -> FramesError {
    FramesError::Decode(e.to_string())
}

/// Appends the sample's NAL units to `out` with start codes instead of length prefixes.
fn annex_b(sample: &[u8], out: &mut Vec<u8>) -> Result<(), FramesError> {
    let mut rest = sample;
    while !rest.is_empty() {
        let (len, tail) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| bad("a NAL unit's length is cut short"))?;
        let len = u32::from_be_bytes(*len) as usize;
        let nal = tail
            .get(..len)
            .ok_or_else(|| bad("a NAL unit is longer than its sample"))?;
        out.extend_from_slice(&START);
        out.extend_from_slice(nal);
        rest = &tail[len..];
    }
    Ok(())
}

pub fn derive(source: &Path, flagged: &[Range<u64>]) -> Result<FramePack, FramesError> {
    let file = std::fs::File::open(source)?;
    let size = file.metadata()?.len();
    let mut mp4 = mp4::Mp4Reader::read_header(BufReader::new(file), size).map_err(bad)?;
    let track = mp4
        .tracks()
        .values()
        .find(|t| matches!(t.media_type(), Ok(mp4::MediaType::H264)))
        .ok_or_else(|| bad("it has no H.264 video track"))?;
    let (id, samples) = (track.track_id(), track.sample_count());
    let timescale = u64::from(track.timescale().max(1));
    let length_ms = track.duration().as_millis() as u64;
    let mut headers = Vec::new();
    for set in [
        track.sequence_parameter_set(),
        track.picture_parameter_set(),
    ] {
        headers.extend_from_slice(&START);
        headers.extend_from_slice(set.map_err(bad)?);
    }
    let frame_ms = (length_ms / u64::from(samples.max(1))).max(1);

    let config = DecoderConfig::new().flush_after_decode(Flush::NoFlush);
    let mut decoder =
        Decoder::with_api_config(openh264::OpenH264API::from_source(), config).map_err(bad)?;
    let mut collect = Collector::new(Some(length_ms), flagged);
    let mut packet = Vec::new();
    for i in 1..=samples {
        let Some(sample) = mp4.read_sample(id, i).map_err(bad)? else {
            continue;
        };
        packet.clear();
        if i == 1 {
            packet.extend_from_slice(&headers);
        }
        annex_b(&sample.bytes, &mut packet)?;
        let shown = sample.start_time as i64 + i64::from(sample.rendering_offset);
        let at_ms = shown.max(0) as u64 * 1000 / timescale;
        // Every picture is decoded (the next ones refer to it); only wanted ones are
        // converted to RGB.
        let Some(yuv) = decoder.decode(&packet).map_err(bad)? else {
            continue;
        };
        if let Some(sheet) = collect.wants(at_ms) {
            let (w, h) = yuv.dimensions();
            let mut rgb = vec![0; w * h * 3];
            yuv.write_rgb8(&mut rgb);
            let image = RgbImage::from_raw(w as u32, h as u32, rgb)
                .ok_or_else(|| bad("a picture has the wrong size"))?;
            collect.keep(at_ms, sheet, image)?;
        }
        if collect.done() {
            break;
        }
    }
    collect.finish(frame_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_prefixed_units_become_start_coded_and_a_short_one_is_refused() {
        let mut out = Vec::new();
        annex_b(&[0, 0, 0, 2, 9, 9, 0, 0, 0, 1, 7], &mut out).unwrap();
        assert_eq!(out, vec![0, 0, 0, 1, 9, 9, 0, 0, 0, 1, 7]);
        assert!(annex_b(&[0, 0, 0, 5, 1], &mut out).is_err());
        assert!(annex_b(&[0, 0], &mut out).is_err());
        let missing = derive(Path::new("/nonexistent/clip.mp4"), &[]);
        assert!(matches!(missing, Err(FramesError::Io(_))));
    }
}
