//! Random bytes from the operating system, for ids, keys and jitter.

use ring::rand::{SecureRandom, SystemRandom};

#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the operating system gave no random numbers")]
pub struct NoRandomness;

pub fn bytes<const N: usize>() -> Result<[u8; N], NoRandomness> {
    let mut b = [0u8; N];
    SystemRandom::new().fill(&mut b).map_err(|_| NoRandomness)?;
    Ok(b)
}

/// `N` random bytes as lower-case hex.
pub fn hex<const N: usize>() -> Result<String, NoRandomness> {
    bytes::<N>().map(|b| crate::domain::text::hex(&b))
}
