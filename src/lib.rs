pub mod asr;
pub mod audio;
pub mod cli;
pub mod cmd;
pub mod store;
pub mod text;
pub mod transcript;
pub mod input {
    pub const DEFAULT_NAME_PATTERN: &str = "x";
}
