//! The whisper engine: one model loaded once, a pool of decoding states, and
//! the chunk-by-chunk transcription of a speaker track the audio stage
//! planned (speech chunks only; prompts and sounds are marked, never
//! decoded as anyone's words).
//!
//! Each chunk is decoded greedily with an initial prompt that steers whisper
//! to simplified Mandarin, cleaned of whisper's known inventions
//! (`cleanup`), cut into clauses with their own times, and, where the
//! lexicon proposes a phrase the text nearly holds, checked against the audio
//! by teacher forcing (`verify`). The engine's revision stamps every
//! transcript, so a change here makes the next run transcribe again.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use whisper_rs::{
    DtwMode, DtwModelPreset, DtwParameters, FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters,
    WhisperState,
};

use super::bpe::Bpe;
use super::cleanup;
use super::verify::{check_proposals, decode_past_end, FreeDecode, FreeToken, PhraseProposer, Vocabulary};
use crate::audio::plan::PlannedChunk;
use crate::audio::vad::{SpeechChunk, SpeechDetector, VadSettings};
use crate::audio::{SpeakerTrack, WHISPER_RATE_HZ};
use crate::isolate::{in_stage, CallTag, Stage};
use crate::model::ggml::{read_header, GgmlHeader};
use crate::text::to_simplified;
use crate::transcript::{Segment, Speaker};

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

/// Why whisper could not transcribe: the model is missing or unloadable, or whisper itself failed.
#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    /// No model file where one was asked for (the message says how to install one).
    #[error("{}", model_missing_help(.path))]
    ModelMissing {
        /// The model file.
        path: PathBuf,
    },
    /// The model file is there but whisper.cpp would not load it.
    #[error("{path}: cannot load whisper model: {reason}")]
    ModelLoad {
        /// The model file.
        path: PathBuf,
        /// What went wrong, for a person.
        reason: String,
    },
    /// whisper.cpp failed while decoding.
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
    /// The language whisper is told the calls are in (`zh`): never detected, so a noisy chunk is not heard as another language.
    pub language: String,
    /// Steers whisper towards simplified characters and punctuation.
    pub initial_prompt: String,
    /// Retry at higher temperature when the decoder fails; slower, rarely better on calls.
    pub temperature_fallback: bool,
    /// Cap on tokens per second of chunk, which stops runaway repetition early.
    pub max_tokens_per_s: f32,
    /// How speech is found before whisper hears it.
    pub vad: VadSettings,
    /// Token times by DTW on the alignment heads (~25% slower: whisper.cpp runs
    /// each alignment on a fresh 4-thread pool) rather than text spread over
    /// the chunk's voiced stretches, which on the sample calls places turns
    /// closer (median 0.17 s off, against 0.30 s).
    pub dtw_token_times: bool,
    /// Threads whisper.cpp uses per chunk (the rest of the cores decode other calls); speed only, so not in the fingerprint.
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
    /// For phrase verification: the model's tokeniser and special tokens.
    vocabulary: Vocabulary,
    /// The tokens every chunk's decode starts from (see `decode_prefix`).
    prefix: Vec<i32>,
    states: Mutex<Vec<WhisperState>>,
    settings: DecodeSettings,
    detector: SpeechDetector,
    /// Identifies the detector (its kind and, for a model, the model's hash).
    detector_id: String,
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
        let vocabulary = vocabulary_of(&context);
        let prefix = decode_prefix(&context, &settings).map_err(|reason| AsrError::ModelLoad {
            path: model_path.to_path_buf(),
            reason,
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
            vocabulary,
            prefix,
            states: Mutex::new(Vec::new()),
            settings,
            detector,
            detector_id,
        })
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

    /// Where on a track someone speaks: the speech detector's chunks (the
    /// audio stage then carves them around sounds and prompts, `audio::plan`).
    /// A stereo call's track is one voice, so long stretches far quieter
    /// than it (babble, the other side's bleed) are left out; a mono track
    /// carries two voices, whose levels may differ by that much.
    pub fn find_speech(&self, track: &SpeakerTrack) -> Vec<SpeechChunk> {
        let one_voice = track.speaker != Speaker::Unknown;
        in_stage(Stage::Vad, || {
            self.detector
                .speech_chunks(&track.samples, &self.settings.vad, one_voice)
        })
    }

    /// Transcribes one speaker track's planned chunks. Chunks are decoded in
    /// parallel on the current rayon pool; segments come back in time order.
    /// With a `proposer`, the phrases it finds nearly said in a chunk are
    /// checked against that chunk's audio (`asr::verify`) and the checks kept
    /// on the segments; a prompt's chunk is never checked (its words are the
    /// system's), and its segments carry the prompt.
    pub fn transcribe(
        &self,
        track: &SpeakerTrack,
        chunks: &[PlannedChunk],
        proposer: Option<&dyn PhraseProposer>,
    ) -> Result<Vec<Segment>, AsrError> {
        let call = CallTag::current();
        let per_chunk: Vec<Vec<Segment>> = chunks
            .par_iter()
            .map(|planned| {
                call.enter(|| {
                    let chunk = &planned.chunk;
                    let to_s = |sample: usize| sample as f64 / WHISPER_RATE_HZ as f64;
                    let voiced_s: Vec<(f64, f64)> = chunk.voiced.iter().map(|&(a, b)| (to_s(a), to_s(b))).collect();
                    let audio = ChunkAudio {
                        samples: &track.samples[chunk.start..chunk.end],
                        offset_s: to_s(chunk.start),
                        voiced_s: &voiced_s,
                    };
                    let proposer = proposer.filter(|_| planned.prompt.is_none());
                    let mut segments = self.transcribe_chunk(&audio, track.speaker, proposer)?;
                    for s in &mut segments {
                        s.prompt.clone_from(&planned.prompt);
                    }
                    Ok(segments)
                })
            })
            .collect::<Result<_, _>>()?;
        let mut segments: Vec<Segment> = per_chunk.into_iter().flatten().collect();
        for s in &mut segments {
            s.speaker = track.speaker;
        }
        Ok(segments)
    }

    /// Transcribes one stretch of a speaker's speech as a single chunk, no
    /// speech detection: for a stretch already cut at a turn (measuring the
    /// verifier on scripted turns). With a `proposer`, as [`Engine::transcribe`].
    pub fn transcribe_stretch(
        &self,
        samples: &[f32],
        speaker: Speaker,
        proposer: Option<&dyn PhraseProposer>,
    ) -> Result<Vec<Segment>, AsrError> {
        let whole = [(0.0, samples.len() as f64 / WHISPER_RATE_HZ as f64)];
        let chunk = ChunkAudio {
            samples,
            offset_s: 0.0,
            voiced_s: &whole,
        };
        let mut segments = self.transcribe_chunk(&chunk, speaker, proposer)?;
        for s in &mut segments {
            s.speaker = speaker;
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
        chunk: &ChunkAudio,
        speaker: Speaker,
        proposer: Option<&dyn PhraseProposer>,
    ) -> Result<Vec<Segment>, AsrError> {
        let mut state = self.take_state()?;
        // A panic inside unwinds past `return_state`: the state, in doubt, is
        // freed with this frame and the pool makes a fresh one (`isolate`).
        let result = in_stage(Stage::Transcribe, || {
            self.decode_chunk(&mut state, chunk, speaker, proposer, true)
        });
        self.return_state(state);
        result
    }

    /// One chunk through whisper, with a second look where the decode ended
    /// unsure: on a bad line whisper often stops after the first sentence of a
    /// chunk (the end token at 0.2 where a finished sentence has 0.95), and
    /// the rest of what was said is lost. First the decode goes on past that
    /// end (greedy, the end suppressed once), kept when it reads as speech;
    /// if it still ends unsure, or nothing was heard at all, the chunk is cut
    /// at its longest inner pause and each part decoded on its own, kept when
    /// the parts say more. Near phrases are checked while a decode's encoder
    /// output is still in the decoding state.
    fn decode_chunk(
        &self,
        state: &mut WhisperState,
        chunk: &ChunkAudio,
        speaker: Speaker,
        proposer: Option<&dyn PhraseProposer>,
        may_split: bool,
    ) -> Result<Vec<Segment>, AsrError> {
        let audio = chunk.samples;
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
        let params = self.params(audio_ctx, max_tokens);
        let chunk_len_s = audio.len() as f64 / WHISPER_RATE_HZ as f64;
        state
            .full(params, samples)
            .map_err(|e| AsrError::Whisper(e.to_string()))?;
        let threads = self.settings.threads_per_chunk.max(1);
        let (mut tokens, mut end) = self.free_tokens(state);
        if ended_unsure(end) && !self.settings.dtw_token_times {
            let free = FreeDecode {
                prefix: &self.prefix,
                tokens: &tokens,
                end_logprob: end,
            };
            let room = (max_tokens as usize)
                .saturating_sub(tokens.len())
                .clamp(1, MAX_TOKENS_PAST_END);
            let (more, more_end) = decode_past_end(state, &self.vocabulary, &free, room, threads)
                .map_err(|e| AsrError::Whisper(format!("decoding past an unsure end: {e}")))?;
            if reads_as_speech(&more, more_end) {
                tokens.extend(more);
                end = more_end;
            }
        }
        let looped = cleanup::drop_token_loops(&mut tokens, |t| t.id, |t| &t.bytes);
        let mut segments = self.segments_from(&tokens, chunk.offset_s, chunk_len_s, chunk.voiced_s);
        // (the verifier scores rewrites on the decoder's cache of the decode as
        // it was: without its loop, a rewrite after it would read another text)
        if let Some(proposer) = proposer.filter(|_| !looped) {
            self.verify_near_phrases(state, speaker, proposer, &tokens, end, &mut segments)?;
        }
        let said = |segments: &[Segment]| segments.iter().map(|s| s.text.chars().count()).sum::<usize>();
        let voiced_s: f64 = chunk.voiced_s.iter().map(|(a, b)| b - a).sum();
        if may_split && lost_some_speech(said(&segments), voiced_s, end) {
            if let Some((first, second)) = chunk.split_at_longest_pause() {
                let mut parts = self.decode_chunk(state, &first.as_chunk(), speaker, proposer, false)?;
                parts.extend(self.decode_chunk(state, &second.as_chunk(), speaker, proposer, false)?);
                if said(&parts) > said(&segments) {
                    segments = parts;
                }
            }
        }
        Ok(segments)
    }

    /// Checks the phrases `proposer` finds nearly said in a chunk's segments
    /// against the chunk's audio (the decode of `tokens` still in `state`),
    /// and keeps each check on the segment where its heard text starts.
    fn verify_near_phrases(
        &self,
        state: &mut WhisperState,
        speaker: Speaker,
        proposer: &dyn PhraseProposer,
        tokens: &[FreeToken],
        end_logprob: Option<f32>,
        segments: &mut [Segment],
    ) -> Result<(), AsrError> {
        if segments.is_empty() {
            return Ok(());
        }
        let texts: Vec<&str> = segments.iter().map(|s| s.text.as_str()).collect();
        let proposals = proposer.propose(speaker, &texts);
        if proposals.is_empty() {
            return Ok(());
        }
        let free = FreeDecode {
            prefix: &self.prefix,
            tokens,
            end_logprob,
        };
        let threads = self.settings.threads_per_chunk.max(1);
        let checks = in_stage(Stage::Verify, || {
            check_proposals(state, &self.vocabulary, &free, &texts, &proposals, threads)
        })
        .map_err(|e| AsrError::Whisper(format!("phrase verification: {e}")))?;
        for (clause, check) in checks {
            segments[clause].checks.push(check);
        }
        Ok(())
    }

    /// The free decode's text tokens with whisper's log-probabilities, and the
    /// log-probability of its end (None when it stopped at the token limit).
    fn free_tokens(&self, state: &WhisperState) -> (Vec<FreeToken>, Option<f32>) {
        let eot = self.context.token_eot();
        let mut tokens = Vec::new();
        let mut end_logprob = None;
        for segment in state.as_iter() {
            for i in 0..segment.n_tokens() {
                let Some(token) = segment.get_token(i) else { continue };
                let data = token.token_data();
                if data.id == eot {
                    end_logprob = Some(data.plog);
                    continue;
                }
                if data.id > eot {
                    continue; // timestamps, language, task and other special tokens
                }
                tokens.push(FreeToken {
                    id: data.id,
                    bytes: token.to_bytes().map(<[u8]>::to_vec).unwrap_or_default(),
                    logprob: data.plog,
                    dtw_s: (data.t_dtw >= 0).then(|| data.t_dtw as f64 / 100.0),
                });
            }
        }
        (tokens, end_logprob)
    }

    /// Turns a chunk's tokens into clause-sized segments on the call timeline.
    /// Decoded without timestamp tokens, the chunk is one stretch of text.
    /// With DTW each token is timed where it is spoken (a token ends where
    /// the next begins); without, text is spread over the chunk's voiced
    /// stretches (`voiced_s`, seconds into the chunk) by its length.
    fn segments_from(
        &self,
        free: &[FreeToken],
        offset_s: f64,
        chunk_len_s: f64,
        voiced_s: &[(f64, f64)],
    ) -> Vec<Segment> {
        let mut tokens: Vec<cleanup::TimedToken> = Vec::with_capacity(free.len());
        for token in free {
            let (start_s, end_s) = match token.dtw_s {
                Some(at_s) => {
                    if let Some(previous) = tokens.last_mut() {
                        previous.end_s = at_s.max(previous.start_s);
                    }
                    (at_s, chunk_len_s.max(at_s))
                }
                None => (0.0, 0.0),
            };
            tokens.push(cleanup::TimedToken {
                bytes: token.bytes.clone(),
                start_s,
                end_s,
                probability: token.logprob.exp(),
            });
        }
        let pieces = if tokens.iter().any(|t| t.end_s > t.start_s) {
            cleanup::clauses(&tokens, 0.0, chunk_len_s)
        } else {
            let voiced_total_s: f64 = voiced_s.iter().map(|(a, b)| b - a).sum();
            let mut untimed = cleanup::clauses(&tokens, 0.0, voiced_total_s);
            cleanup::onto_voiced(&mut untimed, voiced_s);
            untimed
        };
        cleanup::finish(pieces, offset_s, chunk_len_s, to_simplified)
    }
}

/// A decode whose end token is less likely than this stopped unsure (a
/// finished sentence ends above -0.1; a chunk whose second sentence was
/// dropped ends near -1.7).
const UNSURE_END_LOGPROB: f32 = -1.0;
/// Tokens decoded past an unsure end at most: one more sentence, not a loop.
const MAX_TOKENS_PAST_END: usize = 32;
/// A chunk whose decode ended unsure and holds fewer characters than this
/// per second of voice lost some of what was said. Mandarin runs 4 to 6; on
/// the sample sets' unsure ends, whole decodes run 4.7 and up, and one that
/// dropped a sentence 3.3 (noisy-001: 22 characters over 6.6 voiced seconds,
/// its 让您久等了，您的地址是… line gone).
const MIN_CHARS_PER_VOICED_S: f64 = 3.5;
/// A chunk holding fewer characters than this per second of voice lost some
/// of what was said however surely its decode ended: no one speaks that
/// slowly. On the sample sets, decodes that said all run 2.0 and up;
/// respoken3-006's first chunk ran 0.75 (six characters over 8 voiced
/// seconds, four turns heard as 我找不到人问, its end -0.89).
const MIN_CHARS_PER_VOICED_S_ANY_END: f64 = 1.5;
/// A chunk is cut for a second look only at a pause at least this long.
const MIN_SPLIT_PAUSE_S: f64 = 0.4;

/// Whether a chunk's decode, `heard` characters over `voiced_s` seconds of
/// voice ending at `end_logprob`, lost some of what was said: nothing heard,
/// an unsure end (a sentence dropped after it) with too few characters for
/// the voice, or far too few for anyone's pace. A sure end with a few
/// characters fewer than usual is a slow speaker.
fn lost_some_speech(heard: usize, voiced_s: f64, end_logprob: Option<f32>) -> bool {
    let few = |per_s: f64| (heard as f64) < per_s * voiced_s;
    heard == 0 || (ended_unsure(end_logprob) && few(MIN_CHARS_PER_VOICED_S)) || few(MIN_CHARS_PER_VOICED_S_ANY_END)
}

/// Whether a decode stopped unsure (None: it stopped at the token limit).
fn ended_unsure(end_logprob: Option<f32>) -> bool {
    end_logprob.is_some_and(|e| e < UNSURE_END_LOGPROB)
}

/// Whether tokens decoded past an unsure end are more speech: they end, say
/// some Chinese, and do not loop ("(在)(在)(在)…", runs of quotes).
fn reads_as_speech(tokens: &[FreeToken], end: Option<f32>) -> bool {
    let Ok(text) = String::from_utf8(tokens.iter().flat_map(|t| t.bytes.iter().copied()).collect()) else {
        return false;
    };
    let cjk = text.chars().filter(|&c| crate::text::is_han(c)).count();
    let mean_logprob = tokens.iter().map(|t| t.logprob).sum::<f32>() / tokens.len().max(1) as f32;
    end.is_some() && cjk >= 2 && !cleanup::loops(&text) && mean_logprob >= -1.5
}

/// One VAD chunk of a track: its samples, where it starts, where its voice is.
struct ChunkAudio<'a> {
    samples: &'a [f32],
    offset_s: f64,
    /// Voiced stretches, seconds into the chunk.
    voiced_s: &'a [(f64, f64)],
}

/// A part of a chunk, owning its voiced stretches.
struct ChunkPart<'a> {
    samples: &'a [f32],
    offset_s: f64,
    voiced_s: Vec<(f64, f64)>,
}

impl ChunkPart<'_> {
    fn as_chunk(&self) -> ChunkAudio<'_> {
        ChunkAudio {
            samples: self.samples,
            offset_s: self.offset_s,
            voiced_s: &self.voiced_s,
        }
    }
}

impl<'a> ChunkAudio<'a> {
    /// The chunk in two at the middle of its longest pause between voiced
    /// stretches (at least `MIN_SPLIT_PAUSE_S`), each part with its own voice.
    fn split_at_longest_pause(&self) -> Option<(ChunkPart<'a>, ChunkPart<'a>)> {
        let (gap, after) = self
            .voiced_s
            .windows(2)
            .enumerate()
            .map(|(i, w)| (w[1].0 - w[0].1, i + 1))
            .max_by(|a, b| a.0.total_cmp(&b.0))?;
        if gap < MIN_SPLIT_PAUSE_S {
            return None;
        }
        let cut_s = (self.voiced_s[after - 1].1 + self.voiced_s[after].0) / 2.0;
        let cut = ((cut_s * WHISPER_RATE_HZ as f64) as usize).min(self.samples.len());
        let first = ChunkPart {
            samples: &self.samples[..cut],
            offset_s: self.offset_s,
            voiced_s: self.voiced_s[..after].to_vec(),
        };
        let second = ChunkPart {
            samples: &self.samples[cut..],
            offset_s: self.offset_s + cut_s,
            voiced_s: self.voiced_s[after..]
                .iter()
                .map(|&(a, b)| (a - cut_s, b - cut_s))
                .collect(),
        };
        Some((first, second))
    }
}

/// The model's tokeniser (its regular tokens, by id) and the special tokens
/// verification needs.
fn vocabulary_of(context: &WhisperContext) -> Vocabulary {
    let eot = context.token_eot();
    let bytes: Vec<Vec<u8>> = (0..eot)
        .map(|id| context.token_to_bytes(id).map(<[u8]>::to_vec).unwrap_or_default())
        .collect();
    let bpe = Bpe::new(bytes.iter().enumerate().map(|(id, b)| (id as i32, b.clone())));
    let space = bpe.encode(" ").and_then(|t| t.first().copied()).unwrap_or(eot);
    Vocabulary {
        eot,
        n_vocab: context.n_vocab().max(0) as usize,
        space,
        bpe,
        bytes,
    }
}

/// The tokens whisper.cpp starts each chunk's decode from, as `full()` builds
/// them: the previous-text marker and the initial prompt (whisper.cpp's own
/// tokenisation of it), then start of transcript, language, task and no
/// timestamps.
fn decode_prefix(context: &WhisperContext, settings: &DecodeSettings) -> Result<Vec<i32>, String> {
    let mut prefix = Vec::new();
    if !settings.initial_prompt.is_empty() {
        prefix.push(context.token_prev());
        let prompt = context
            .tokenize(&settings.initial_prompt, 1024)
            .map_err(|e| format!("cannot tokenise the initial prompt: {e}"))?;
        prefix.extend(prompt);
    }
    prefix.push(context.token_sot());
    if context.is_multilingual() {
        let lang = whisper_rs::get_lang_id(&settings.language)
            .ok_or_else(|| format!("whisper does not know the language {:?}", settings.language))?;
        prefix.push(context.token_lang(lang));
        prefix.push(context.token_transcribe());
    }
    prefix.push(context.token_not());
    Ok(prefix)
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
    use crate::asr::verify::force_sequence;

    /// Chunks of the sample sets as whisper decoded them: (characters,
    /// voiced seconds, end log-probability, whether a sentence was lost).
    #[test]
    fn a_chunk_is_looked_at_again_when_it_left_too_few_characters_for_its_voice() {
        let chunks = [
            (22, 6.62, Some(-1.74), true),  // noisy-001: 让您久等了，您的地址是… dropped
            (2, 1.26, Some(-1.05), true),   // lines-a: 再见 alone for more
            (0, 1.6, Some(-0.66), true),    // nothing heard over a voice
            (14, 2.75, Some(-1.54), false), // 感谢您的来订祝您生活愉快再见: all said
            (6, 1.27, Some(-1.19), false),  // lines-b: 复度38厘, quick
            (9, 4.4, Some(-0.25), false),   // lines-a: few characters but a sure end
            (22, 6.62, None, false),        // stopped at the token limit: not an unsure end
            (6, 7.97, Some(-0.89), true),   // respoken-3: four turns heard as 我找不到人问
        ];
        for (heard, voiced_s, end, lost) in chunks {
            assert_eq!(
                lost_some_speech(heard, voiced_s, end),
                lost,
                "{heard} over {voiced_s} s, end {end:?}"
            );
        }
    }

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

    /// The verifier's two foundations, on the real model and a phone-line
    /// call: scoring the free decode by teacher forcing gives back whisper's
    /// own token log-probabilities (same prompt, same filters, the encoder
    /// output left in the state), and the hand-made BPE writes the decoded
    /// text in the very tokens whisper chose.
    #[test]
    fn teacher_forcing_the_free_decode_gives_whispers_own_scores() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let model = root.join("models/ggml-base-q8_0.bin");
        assert!(
            model.is_file(),
            "{} is missing: scripts/setup.sh installs it",
            model.display()
        );
        let engine = Engine::load(&model, SpeechDetector::Energy, DecodeSettings::default()).expect("model loads");
        let audio = crate::audio::decode_file(&root.join("data-samples/lines-b/b-01.wav")).expect("sample decodes");
        let tracks = crate::audio::speaker_tracks(audio, crate::transcript::AgentChannel::Left).expect("stereo call");
        let agent = tracks
            .iter()
            .find(|t| t.speaker == Speaker::Agent)
            .expect("an agent track");
        let chunks = engine.find_speech(agent);
        let mut state = engine.take_state().unwrap();
        let (mut compared, mut same_tokens, mut decodes) = (0, 0, 0);
        for chunk in chunks.iter().take(6) {
            let samples = &agent.samples[chunk.start..chunk.end];
            if samples.len() < (MIN_CHUNK_S * WHISPER_RATE_HZ as f32) as usize {
                continue;
            }
            let chunk_s = samples.len() as f32 / WHISPER_RATE_HZ as f32;
            let params = engine.params(audio_ctx_for(chunk_s), 200);
            state.full(params, samples).unwrap();
            let (free, end) = engine.free_tokens(&state);
            if free.is_empty() {
                continue;
            }
            decodes += 1;
            let ids: Vec<i32> = free.iter().map(|t| t.id).collect();
            let forced = force_sequence(&mut state, &engine.vocabulary, &engine.prefix, &ids, 1).unwrap();
            let whispers = free.iter().map(|t| t.logprob).chain(end);
            for (k, (own, forced)) in whispers.zip(&forced).enumerate() {
                assert!(
                    (own - forced).abs() < 0.02,
                    "token {k} of {:?}: whisper scored it {own}, teacher forcing {forced}",
                    String::from_utf8_lossy(&free.iter().flat_map(|t| t.bytes.clone()).collect::<Vec<_>>())
                );
                compared += 1;
            }
            let text = String::from_utf8(free.iter().flat_map(|t| t.bytes.clone()).collect()).unwrap();
            if engine.vocabulary.bpe.encode(&text).as_deref() == Some(&ids[..]) {
                same_tokens += 1;
            }
        }
        assert!(
            decodes >= 4 && compared >= 40,
            "too little was heard to compare: {decodes} decodes, {compared} tokens"
        );
        assert!(
            same_tokens * 10 >= decodes * 9,
            "the BPE wrote {same_tokens} of {decodes} decodes in whisper's own tokens"
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
