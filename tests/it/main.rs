//! The integration tests, one binary: each module runs the `callqa` binary the
//! way a user does, most of them with the real model on the sample calls. One
//! binary links once (polars, tantivy and whisper.cpp make each link long) and
//! lets `common::whisper_lock` keep whisper runs from overlapping across them.
//!
//!     cargo test --release --test it                  every module
//!     cargo test --release --test it privacy::        one module

mod common;

mod bad_input;
mod browser;
mod deploy;
mod examples;
mod hearing;
mod ivr;
mod language;
mod lexicon;
mod model;
mod operations;
mod privacy;
mod report;
mod review;
mod run;
mod score;
mod search;
mod voices;
