use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use whisper_rs::{
    DtwMode, DtwModelPreset, DtwParameters, FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters,
    WhisperState,
};

use super::cleanup;
use crate::audio::vad::{SpeechDetector, VadSettings};
use crate::audio::{SpeakerTrack, WHISPER_RATE_HZ};
use crate::model::ggml::{read_header, GgmlHeader};
use crate::text::to_simplified;
use crate::transcript::Segment;

/// Bumped whenever decoding changes in a way that should invalidate cached transcripts.
const ENGINE_REVISION: u32 = 9;

/// whisper's encoder sees 50 frames per second of audio (1500 per 30 s window).
const AUDIO_CTX_PER_S: f32 = 50.0;
const MAX_AUDIO_CTX: i32 = 1500;
/// Extra encoder frames beyond the chunk, so the last word is not cut.
const AUDIO_CTX_MARGIN: i32 = 32;
/// The audio context is rounded up to this many frames: llamafile's kernels
/// (see .cargo/config.toml) take a matrix product only when its inner size
/// is a multiple of 16, and the encoder's attention multiplies over the
/// context. At any other length ggml falls back to one dot product at a
/// time, which took a fifth of a run.
const AUDIO_CTX_STEP: i32 = 16;
/// whisper.cpp refuses input under 100 ms; short chunks are padded with silence.
const MIN_CHUNK_S: f32 = 1.0;

#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    #[error("{}", model_missing_help(.path))]
    ModelMissing { path: PathBuf },
    #[error("{path}: cannot load whisper model: {reason}")]
    ModelLoad { path: PathBuf, reason: String },
    #[error("whisper failed: {0}")]
    Whisper(String),
}

/// What to tell a user whose model file is not there.
pub fn model_missing_help(path: &Path) -> String {
    format!(
        "whisper model not found at {}.\n\
         Install the default model (multilingual whisper base) with `scripts/setup.sh`,\n\
         or convert a faster-whisper/CTranslate2 model yourself: `callqa model import <ct2-dir> -o {}`,\n\
         or pass any whisper.cpp ggml model with --model <file.bin>.",
        path.display(),
        path.display()
    )
}

/// How audio is decoded. Everything here except `threads_per_chunk` changes
/// the text, so it is part of a transcript's fingerprint.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DecodeSettings {
    pub language: String,
    /// Steers whisper towards simplified characters and punctuation.
    pub initial_prompt: String,
    /// Retry at higher temperature when the decoder fails; slower, rarely better on calls.
    pub temperature_fallback: bool,
    /// Cap on tokens per second of chunk, which stops runaway repetition early.
    pub max_tokens_per_s: f32,
    pub vad: VadSettings,
    /// Token times by DTW on the alignment heads (~25% slower: whisper.cpp runs
    /// each alignment on a fresh 4-thread pool) rather than text spread over
    /// the chunk's voiced stretches, which on the sample calls places turns
    /// closer (median 0.17 s off, against 0.30 s).
    pub dtw_token_times: bool,
    #[serde(skip)]
    pub threads_per_chunk: usize,
}

impl Default for DecodeSettings {
    fn default() -> Self {
        Self {
            language: "zh".into(),
            initial_prompt: "以下是普通话的句子。".into(),
            temperature_fallback: false,
            max_tokens_per_s: 12.0,
            vad: VadSettings::default(),
            dtw_token_times: false,
            threads_per_chunk: 1,
        }
    }
}

impl DecodeSettings {
    /// Stable text identifying these settings (and this engine revision).
    pub fn fingerprint(&self) -> String {
        format!(
            "rev{ENGINE_REVISION}:{}",
            serde_json::to_string(self).expect("settings always serialise")
        )
    }
}

/// A loaded model plus a pool of decoding states, and the speech detector
/// that decides what whisper hears.
pub struct Engine {
    context: WhisperContext,
    states: Mutex<Vec<WhisperState>>,
    settings: DecodeSettings,
    detector: SpeechDetector,
    /// Identifies the detector (its kind and, for a model, the model's hash).
    detector_id: String,
    model_path: PathBuf,
}

impl Engine {
    /// Loads the whisper model; speech is found by `detector`.
    pub fn load(model_path: &Path, detector: SpeechDetector, settings: DecodeSettings) -> Result<Self, AsrError> {
        if !model_path.is_file() {
            return Err(AsrError::ModelMissing {
                path: model_path.to_path_buf(),
            });
        }
        whisper_rs::install_logging_hooks(); // whisper.cpp's chatter stays off the user's terminal
        let path_str = model_path.to_str().ok_or_else(|| AsrError::ModelLoad {
            path: model_path.to_path_buf(),
            reason: "path is not UTF-8".into(),
        })?;
        // Token times come, when asked for, from DTW over the model's alignment
        // heads; whisper's timestamp tokens are too coarse on short chunks.
        let header = read_header(model_path).map_err(|reason| AsrError::ModelLoad {
            path: model_path.to_path_buf(),
            reason,
        })?;
        let params = WhisperContextParameters {
            dtw_parameters: DtwParameters {
                mode: if settings.dtw_token_times {
                    dtw_mode(&header)
                } else {
                    DtwMode::None
                },
                ..DtwParameters::default()
            },
            ..WhisperContextParameters::default()
        };
        let context = WhisperContext::new_with_params(path_str, params).map_err(|e| AsrError::ModelLoad {
            path: model_path.to_path_buf(),
            reason: format!("{e} (is it a whisper.cpp ggml model?)"),
        })?;
        let detector_id = match &detector {
            SpeechDetector::Silero(silero) => {
                let bytes = std::fs::read(silero.path()).map_err(|e| AsrError::ModelLoad {
                    path: silero.path().to_path_buf(),
                    reason: e.to_string(),
                })?;
                format!("silero:{}", &blake3::hash(&bytes).to_hex()[..16])
            }
            SpeechDetector::Energy => "energy".to_string(),
        };
        Ok(Self {
            context,
            states: Mutex::new(Vec::new()),
            settings,
            detector,
            detector_id,
            model_path: model_path.to_path_buf(),
        })
    }

    pub fn settings(&self) -> &DecodeSettings {
        &self.settings
    }

    /// The speech detector in use ("silero" or "energy").
    pub fn detector_name(&self) -> &'static str {
        self.detector.name()
    }

    /// Everything besides audio and model that shapes a transcript: decoding
    /// settings, engine revision and speech detector.
    pub fn fingerprint(&self) -> String {
        format!("{}:{}", self.settings.fingerprint(), self.detector_id)
    }

    pub fn model_path(&self) -> &Path {
        &self.model_path
    }

    /// Transcribes one speaker track. Chunks are decoded in parallel on the
    /// current rayon pool; segments come back in time order.
    pub fn transcribe(&self, track: &SpeakerTrack) -> Result<Vec<Segment>, AsrError> {
        let chunks = self.detector.speech_chunks(&track.samples, &self.settings.vad);
        let per_chunk: Vec<Vec<Segment>> = chunks
            .par_iter()
            .map(|chunk| {
                let to_s = |sample: usize| sample as f64 / WHISPER_RATE_HZ as f64;
                let voiced_s: Vec<(f64, f64)> = chunk.voiced.iter().map(|&(a, b)| (to_s(a), to_s(b))).collect();
                self.transcribe_chunk(&track.samples[chunk.start..chunk.end], to_s(chunk.start), &voiced_s)
            })
            .collect::<Result<_, _>>()?;
        let mut segments: Vec<Segment> = per_chunk.into_iter().flatten().collect();
        for s in &mut segments {
            s.speaker = track.speaker;
        }
        Ok(segments)
    }

    fn take_state(&self) -> Result<WhisperState, AsrError> {
        let pooled = self.states.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match pooled {
            Some(state) => Ok(state),
            None => self
                .context
                .create_state()
                .map_err(|e| AsrError::Whisper(format!("cannot create decoding state: {e}"))),
        }
    }

    fn return_state(&self, state: WhisperState) {
        self.states.lock().unwrap_or_else(|p| p.into_inner()).push(state);
    }

    fn params(&self, audio_ctx: i32, max_tokens: i32) -> FullParams<'_, '_> {
        let s = &self.settings;
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        params.set_n_threads(s.threads_per_chunk.max(1) as i32);
        params.set_language(Some(&s.language));
        params.set_initial_prompt(&s.initial_prompt);
        params.set_no_context(true);
        // Token times come from DTW (see `load`) or the voiced stretches; no timestamp tokens (see `transcribe_chunk`).
        params.set_token_timestamps(false);
        params.set_no_timestamps(true);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_special(false);
        params.set_print_timestamps(false);
        params.set_suppress_blank(true);
        params.set_temperature_inc(if s.temperature_fallback { 0.2 } else { 0.0 });
        params.set_audio_ctx(audio_ctx);
        params.set_max_tokens(max_tokens);
        params
    }

    /// Decodes one speech chunk as a single segment, without timestamp tokens:
    /// with them, whisper ends a segment with a lone timestamp when unsure
    /// and whisper.cpp then skips the rest of the window, which on noisy lines
    /// lost whole sentences. Words are timed over the chunk's voiced stretches
    /// (or by DTW, when asked for).
    fn transcribe_chunk(
        &self,
        audio: &[f32],
        offset_s: f64,
        voiced_s: &[(f64, f64)],
    ) -> Result<Vec<Segment>, AsrError> {
        let min_len = (MIN_CHUNK_S * WHISPER_RATE_HZ as f32) as usize;
        let padded;
        let samples = if audio.len() < min_len {
            padded = [audio, &vec![0.0; min_len - audio.len()]].concat();
            &padded[..]
        } else {
            audio
        };
        let chunk_s = samples.len() as f32 / WHISPER_RATE_HZ as f32;
        let audio_ctx = audio_ctx_for(chunk_s);
        let max_tokens = (chunk_s * self.settings.max_tokens_per_s).ceil() as i32 + 8;
        let mut state = self.take_state()?;
        let params = self.params(audio_ctx, max_tokens);
        let chunk_len_s = audio.len() as f64 / WHISPER_RATE_HZ as f64;
        let result = state
            .full(params, samples)
            .map_err(|e| AsrError::Whisper(e.to_string()))
            .map(|()| self.collect_segments(&state, offset_s, chunk_len_s, voiced_s));
        self.return_state(state);
        result
    }

    /// Turns whisper's output into clause-sized segments on the call timeline.
    /// Decoded without timestamp tokens, whisper's one segment is the whole
    /// chunk. Without DTW, text is spread over the chunk's voiced stretches
    /// (`voiced_s`, seconds into the chunk) by its length.
    fn collect_segments(
        &self,
        state: &WhisperState,
        offset_s: f64,
        chunk_len_s: f64,
        voiced_s: &[(f64, f64)],
    ) -> Vec<Segment> {
        let eot = self.context.token_eot();
        let mut pieces = Vec::new();
        for segment in state.as_iter() {
            let (seg_start, seg_end) = (0.0, chunk_len_s);
            let mut tokens: Vec<cleanup::TimedToken> = Vec::new();
            for i in 0..segment.n_tokens() {
                let Some(token) = segment.get_token(i) else { continue };
                let data = token.token_data();
                if data.id >= eot {
                    continue; // timestamps, language, task and other special tokens
                }
                let Ok(bytes) = token.to_bytes() else { continue };
                // DTW gives each token the moment it is spoken; a token ends where the
                // next begins. Without DTW the tokens stay untimed and clauses share
                // their segment's span by length (timestamp tokens are worse than that).
                let (start_s, end_s) = if data.t_dtw >= 0 {
                    let at_s = data.t_dtw as f64 / 100.0;
                    if let Some(previous) = tokens.last_mut() {
                        previous.end_s = at_s.max(previous.start_s);
                    }
                    (at_s, seg_end.max(at_s))
                } else {
                    (0.0, 0.0)
                };
                tokens.push(cleanup::TimedToken {
                    bytes: bytes.to_vec(),
                    start_s,
                    end_s,
                    probability: data.p,
                });
            }
            if tokens.iter().any(|t| t.end_s > t.start_s) {
                pieces.extend(cleanup::clauses(&tokens, seg_start, seg_end));
            } else {
                let voiced_total_s: f64 = voiced_s.iter().map(|(a, b)| b - a).sum();
                let mut untimed = cleanup::clauses(&tokens, 0.0, voiced_total_s);
                cleanup::onto_voiced(&mut untimed, voiced_s);
                pieces.extend(untimed);
            }
        }
        cleanup::finish(pieces, offset_s, chunk_len_s, to_simplified)
    }
}

/// Encoder frames for a chunk of `chunk_s` seconds: the chunk, a margin, and
/// a round size for the matrix kernels; never more than whisper's 30 s window.
fn audio_ctx_for(chunk_s: f32) -> i32 {
    let frames = (chunk_s * AUDIO_CTX_PER_S).ceil() as i32 + AUDIO_CTX_MARGIN;
    ((frames + AUDIO_CTX_STEP - 1) / AUDIO_CTX_STEP * AUDIO_CTX_STEP).min(MAX_AUDIO_CTX)
}

/// The alignment-head preset of a released whisper model, recognised by its
/// shape; other models use their top text layers.
fn dtw_mode(h: &GgmlHeader) -> DtwMode<'static> {
    let english_only = h.n_vocab == 51864;
    let preset = match (h.n_audio_layer, english_only) {
        (4, true) => DtwModelPreset::TinyEn,
        (4, false) => DtwModelPreset::Tiny,
        (6, true) => DtwModelPreset::BaseEn,
        (6, false) => DtwModelPreset::Base,
        (12, true) => DtwModelPreset::SmallEn,
        (12, false) => DtwModelPreset::Small,
        (24, true) => DtwModelPreset::MediumEn,
        (24, false) => DtwModelPreset::Medium,
        (32, _) if h.n_mels == 128 && h.n_text_layer == 4 => DtwModelPreset::LargeV3Turbo,
        (32, _) if h.n_mels == 128 => DtwModelPreset::LargeV3,
        (32, _) => DtwModelPreset::LargeV2,
        _ => {
            return DtwMode::TopMost {
                n_top: (h.n_text_layer / 2).max(1),
            }
        }
    };
    DtwMode::ModelPreset { model_preset: preset }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whisper_is_built_with_llamafile_kernels() {
        let info = whisper_rs::print_system_info();
        assert!(
            info.contains("LLAMAFILE = 1"),
            "whisper.cpp was built without llamafile's kernels (GGML_LLAMAFILE in .cargo/config.toml), \
             so decoding is about a fifth slower; a build older than that setting needs \
             `cargo clean -p whisper-rs-sys`. whisper.cpp says: {info}"
        );
    }

    #[test]
    fn the_audio_context_covers_the_chunk_in_steps_the_kernels_take() {
        // (chunk seconds, frames): 50 frames a second plus a 32-frame margin, rounded up to 16
        for (chunk_s, want) in [
            (1.0, 96),
            (2.37, 160),
            (4.0, 240),
            (7.5, 416),
            (15.0, 784),
            (29.0, 1488),
            (29.9, 1500),
        ] {
            let got = audio_ctx_for(chunk_s);
            assert_eq!(got, want, "{chunk_s} s");
            assert!(got >= ((chunk_s * AUDIO_CTX_PER_S).ceil() as i32 + AUDIO_CTX_MARGIN).min(MAX_AUDIO_CTX));
            assert!(got % AUDIO_CTX_STEP == 0 || got == MAX_AUDIO_CTX, "{chunk_s} s: {got}");
        }
    }
}
