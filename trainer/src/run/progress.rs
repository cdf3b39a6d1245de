//! Progress of a long loop (training steps, search iterations) on stderr: an indicatif bar
//! on a terminal, plain lines otherwise.
//!
//! indicatif draws nothing when stderr is not a terminal (CI logs, `nohup`, `2> file`),
//! its `println` included, so a run there would show no sign of life until it ends. Such
//! runs get a line every `every` steps and every summary line ([`Progress::println`])
//! instead.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressMode {
    /// Nothing (`--quiet`, tests).
    Hidden,
    /// An indicatif bar (stderr is a terminal).
    Bar,
    /// Plain lines on stderr.
    Lines,
}

impl ProgressMode {
    /// [`ProgressMode::Bar`] on a terminal, [`ProgressMode::Lines`] otherwise, and
    /// [`ProgressMode::Hidden`] when `show` is false.
    pub fn auto(show: bool) -> Self {
        if !show {
            ProgressMode::Hidden
        } else if std::io::stderr().is_terminal() {
            ProgressMode::Bar
        } else {
            ProgressMode::Lines
        }
    }
}

/// Where plain lines go (stderr, or a buffer in tests).
pub type LineSink = Arc<Mutex<dyn Write + Send>>;

enum Shown {
    Hidden,
    Bar(ProgressBar),
    Lines(LineSink),
}

/// The progress of one session of a loop over `total` steps.
pub struct Progress {
    shown: Shown,
    label: String,
    total: u64,
    every: u64,
    /// Position and time at the start of this session (for the rate and the eta).
    first: u64,
    started: Instant,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("label", &self.label)
            .field("total", &self.total)
            .field("every", &self.every)
            .finish_non_exhaustive()
    }
}

/// Steps between plain lines for a loop of `total` steps: about 20 lines per run.
pub fn default_every(total: u64) -> u64 {
    (total / 20).max(1)
}

impl Progress {
    /// Progress of `label` (e.g. `train`, `search`) from step `pos` of `total`, shown as
    /// `mode` says, plain lines going to stderr.
    pub fn new(mode: ProgressMode, label: &str, total: u64, pos: u64) -> Self {
        let sink: LineSink = Arc::new(Mutex::new(std::io::stderr()));
        Self::with_sink(mode, label, total, pos, default_every(total), sink)
    }

    /// [`Progress::new`] with the line period and the line sink chosen.
    pub fn with_sink(
        mode: ProgressMode,
        label: &str,
        total: u64,
        pos: u64,
        every: u64,
        sink: LineSink,
    ) -> Self {
        let shown = match mode {
            ProgressMode::Hidden => Shown::Hidden,
            ProgressMode::Lines => Shown::Lines(sink),
            ProgressMode::Bar => {
                let bar = ProgressBar::new(total);
                bar.set_style(
                    ProgressStyle::with_template(
                        "{prefix} {elapsed_precise} [{bar:30}] {pos}/{len} {msg} eta {eta}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar.set_prefix(label.to_string());
                bar.set_position(pos);
                Shown::Bar(bar)
            }
        };
        Progress {
            shown,
            label: label.to_string(),
            total,
            every: every.max(1),
            first: pos,
            started: Instant::now(),
        }
    }

    fn line(sink: &LineSink, text: &str) {
        // Progress output must never stop a run (a closed stderr is not an error).
        if let Ok(mut w) = sink.lock() {
            let _ = writeln!(w, "{text}");
            let _ = w.flush();
        }
    }

    /// Moves to step `pos`; `msg` (the current loss and the like) is built only when it
    /// is shown: on every call for a bar, every `every` steps and at the end for lines.
    pub fn set(&self, pos: u64, msg: impl FnOnce() -> String) {
        match &self.shown {
            Shown::Hidden => {}
            Shown::Bar(bar) => {
                bar.set_position(pos);
                bar.set_message(msg());
            }
            Shown::Lines(sink) => {
                if pos.is_multiple_of(self.every) || pos == self.total {
                    Self::line(sink, &self.status(pos, &msg()));
                }
            }
        }
    }

    /// `label pos/total (p%) msg, S s, eta E s`, the rate taken over this session.
    fn status(&self, pos: u64, msg: &str) -> String {
        let secs = self.started.elapsed().as_secs_f64();
        let done = pos.saturating_sub(self.first);
        let eta = if done > 0 {
            format!(
                "{:.0} s",
                secs / done as f64 * self.total.saturating_sub(pos) as f64
            )
        } else {
            "-".into()
        };
        let pct = 100.0 * pos as f64 / self.total.max(1) as f64;
        let sep = if msg.is_empty() { "" } else { " " };
        format!(
            "{} {pos}/{} ({pct:.0}%){sep}{msg}, {secs:.0} s, eta {eta}",
            self.label, self.total
        )
    }

    /// A summary line (an epoch, a validation): above the bar, or as a plain line.
    pub fn println(&self, text: &str) {
        match &self.shown {
            Shown::Hidden => {}
            Shown::Bar(bar) => bar.println(text),
            Shown::Lines(sink) => Self::line(sink, text),
        }
    }

    /// The loop ended normally: the bar stays with `msg`, or a last line says it.
    pub fn finish(&self, msg: &str) {
        match &self.shown {
            Shown::Hidden => {}
            Shown::Bar(bar) => bar.finish_with_message(msg.to_string()),
            Shown::Lines(sink) => Self::line(sink, &format!("{} done: {msg}", self.label)),
        }
    }

    /// The loop stopped on an error: the bar stays with `msg`, or a last line says it.
    pub fn abandon(&self, msg: &str) {
        match &self.shown {
            Shown::Hidden => {}
            Shown::Bar(bar) => bar.abandon_with_message(msg.to_string()),
            Shown::Lines(sink) => Self::line(sink, &format!("{} stopped: {msg}", self.label)),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    fn captured(p: impl FnOnce(LineSink)) -> Vec<String> {
        let buf = Arc::new(Mutex::new(Vec::<u8>::new()));
        p(buf.clone());
        let bytes = buf.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn lines_every_n_steps_summaries_and_the_end() {
        let lines = captured(|sink| {
            let p = Progress::with_sink(ProgressMode::Lines, "train", 10, 2, 4, sink);
            for pos in 3..=10 {
                p.set(pos, || format!("loss {pos}"));
                if pos == 6 {
                    p.println("step 6 val PSNR 20.000");
                }
            }
            p.finish("best 20.000 dB at step 6");
        });
        assert_eq!(lines.len(), 5, "{lines:?}");
        assert!(
            lines[0].starts_with("train 4/10 (40%) loss 4, "),
            "{lines:?}"
        );
        assert!(lines[0].contains("eta"), "{lines:?}");
        assert_eq!(lines[1], "step 6 val PSNR 20.000");
        assert!(lines[2].starts_with("train 8/10 (80%) loss 8"), "{lines:?}");
        assert!(
            lines[3].starts_with("train 10/10 (100%) loss 10"),
            "{lines:?}"
        );
        assert_eq!(lines[4], "train done: best 20.000 dB at step 6");
    }

    #[test]
    fn hidden_and_bar_write_no_lines() {
        for mode in [ProgressMode::Hidden, ProgressMode::Bar] {
            let lines = captured(|sink| {
                let p = Progress::with_sink(mode, "search", 4, 0, 1, sink);
                p.set(1, || "x".into());
                p.println("epoch 1/2");
                p.abandon("diverged");
            });
            assert!(lines.is_empty(), "{mode:?}: {lines:?}");
        }
        assert_eq!(ProgressMode::auto(false), ProgressMode::Hidden);
        assert_eq!(default_every(7000), 350);
        assert_eq!(default_every(3), 1);
    }
}
