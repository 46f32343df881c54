//! Any bytes, under each extension callqa reads, through the decoder: decoded
//! channels or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for name in ["x.wav", "x.mp3", "x.flac", "x.ogg"] {
        let _ = callqa::audio::decode_bytes(data.to_vec(), std::path::Path::new(name), Some(600.0));
    }
});
