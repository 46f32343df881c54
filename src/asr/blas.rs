//! OpenBLAS, which multiplies the encoder's matrices (whisper-rs is built with
//! its `openblas` feature; the decoder's one-token products stay with ggml).
//!
//! OpenBLAS picks its kernels when the library loads, by the CPU's model
//! number. Debian 12's OpenBLAS (0.3.21) does not know CPUs newer than itself,
//! such as this project's Emerald Rapids machine, and falls back to its
//! generic SSE3 kernels ("Prescott"): the sample calls then take 9.1 s where
//! they take 6.0 s without BLAS and 5.3 s with its AVX-512 kernels. The only
//! way to choose other kernels is the `OPENBLAS_CORETYPE` variable, read at
//! load, so a process whose OpenBLAS chose kernels below what its CPU can run
//! starts itself again with that variable set.

/// Kernel families OpenBLAS names, by the widest vector instructions they use.
/// A name missing here (another architecture, a newer release) is left alone.
const CORES_BY_LEVEL: &[(&str, VectorLevel)] = &[
    ("Katmai", VectorLevel::Sse),
    ("Coppermine", VectorLevel::Sse),
    ("Northwood", VectorLevel::Sse),
    ("Prescott", VectorLevel::Sse),
    ("Banias", VectorLevel::Sse),
    ("Atom", VectorLevel::Sse),
    ("Core2", VectorLevel::Sse),
    ("Penryn", VectorLevel::Sse),
    ("Dunnington", VectorLevel::Sse),
    ("Nehalem", VectorLevel::Sse),
    ("Athlon", VectorLevel::Sse),
    ("Opteron", VectorLevel::Sse),
    ("Opteron_SSE3", VectorLevel::Sse),
    ("Barcelona", VectorLevel::Sse),
    ("Nano", VectorLevel::Sse),
    ("Bobcat", VectorLevel::Sse),
    ("Sandybridge", VectorLevel::Avx),
    ("Bulldozer", VectorLevel::Avx),
    ("Piledriver", VectorLevel::Avx),
    ("Steamroller", VectorLevel::Avx),
    ("Haswell", VectorLevel::Avx2),
    ("Excavator", VectorLevel::Avx2),
    ("Zen", VectorLevel::Avx2),
    ("SkylakeX", VectorLevel::Avx512),
    ("Cooperlake", VectorLevel::Avx512),
    ("SapphireRapids", VectorLevel::Avx512),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum VectorLevel {
    Sse,
    Avx,
    Avx2,
    Avx512,
}

impl VectorLevel {
    /// The OpenBLAS kernels to ask for on a CPU of this level (none below AVX2:
    /// OpenBLAS's own choice is as good as any there).
    fn kernels(self) -> Option<&'static str> {
        match self {
            VectorLevel::Avx512 => Some("SkylakeX"),
            VectorLevel::Avx2 => Some("Haswell"),
            VectorLevel::Sse | VectorLevel::Avx => None,
        }
    }
}

/// The kernels OpenBLAS chose in this process ("SkylakeX", "Haswell", ...), or
/// `None` when callqa is built without OpenBLAS.
pub fn blas_kernels() -> Option<String> {
    #[cfg(feature = "openblas")]
    {
        extern "C" {
            fn openblas_get_corename() -> *const std::ffi::c_char;
        }
        // SAFETY: OpenBLAS returns a pointer to a static NUL-terminated name.
        let name = unsafe { std::ffi::CStr::from_ptr(openblas_get_corename()) };
        Some(name.to_string_lossy().trim().to_string())
    }
    #[cfg(not(feature = "openblas"))]
    None
}

/// What multiplies the encoder's matrices, for logs: "OpenBLAS (SkylakeX
/// kernels)" or "ggml's own kernels".
pub fn encoder_matrices() -> String {
    blas_kernels().map_or_else(
        || "ggml's own kernels".to_string(),
        |kernels| format!("OpenBLAS ({kernels} kernels)"),
    )
}

/// When OpenBLAS chose kernels below what this CPU runs, and the user has not
/// chosen any (`OPENBLAS_CORETYPE`), replaces this process with itself, same
/// arguments, with the better kernels asked for. Call it first thing in
/// `main`: nothing done before it survives. Returns (after a warning) if the
/// process cannot be restarted; decoding is then slower, never wrong.
pub fn restart_with_cpu_kernels() {
    if std::env::var_os("OPENBLAS_CORETYPE").is_some() {
        return; // the user's choice, or this process is the restarted one
    }
    let Some(current) = blas_kernels() else { return };
    let Some(wanted) = better_kernels_for_this_cpu(&current) else {
        return;
    };
    let error = restart_with_env("OPENBLAS_CORETYPE", wanted);
    eprintln!(
        "warning: OpenBLAS chose its {current} kernels for this CPU and callqa could not restart itself with \
         {wanted} ({error}); transcription will be slower. Set OPENBLAS_CORETYPE={wanted} to choose them."
    );
}

/// The kernels to ask for instead of `current` on this CPU, if `current` uses
/// narrower vectors than it runs.
pub fn better_kernels_for_this_cpu(current: &str) -> Option<&'static str> {
    better_kernels(current, cpu_vector_level())
}

fn better_kernels(current: &str, cpu: VectorLevel) -> Option<&'static str> {
    let (_, level) = CORES_BY_LEVEL
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(current))?;
    (*level < cpu).then(|| cpu.kernels()).flatten()
}

fn cpu_vector_level() -> VectorLevel {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512dq")
            && is_x86_feature_detected!("avx512vl")
        {
            return VectorLevel::Avx512;
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            return VectorLevel::Avx2;
        }
        if is_x86_feature_detected!("avx") {
            return VectorLevel::Avx;
        }
    }
    VectorLevel::Sse
}

/// Replaces the process with a fresh run of the same program and arguments,
/// `key=value` added to its environment. Returns only on failure.
fn restart_with_env(key: &str, value: &str) -> std::io::Error {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        match std::env::current_exe() {
            Ok(exe) => std::process::Command::new(exe)
                .args(std::env::args_os().skip(1))
                .env(key, value)
                .exec(),
            Err(e) => e,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (key, value);
        std::io::Error::new(std::io::ErrorKind::Unsupported, "restarting is only done on Unix")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_kernels_are_replaced_on_a_cpu_that_runs_wider_vectors() {
        // (OpenBLAS's choice, the CPU, what to ask for instead)
        for (current, cpu, want) in [
            ("Prescott", VectorLevel::Avx512, Some("SkylakeX")),
            ("PRESCOTT", VectorLevel::Avx512, Some("SkylakeX")),
            ("Sandybridge", VectorLevel::Avx2, Some("Haswell")),
            ("Haswell", VectorLevel::Avx512, Some("SkylakeX")),
            ("Nehalem", VectorLevel::Avx, None),
            ("SkylakeX", VectorLevel::Avx512, None),
            ("Cooperlake", VectorLevel::Avx512, None),
            ("Zen", VectorLevel::Avx2, None),
            ("Haswell", VectorLevel::Avx2, None),
            ("neoversen1", VectorLevel::Sse, None),
            ("SomeFutureCore", VectorLevel::Avx512, None),
        ] {
            assert_eq!(better_kernels(current, cpu), want, "{current} on {cpu:?}");
        }
    }
}
