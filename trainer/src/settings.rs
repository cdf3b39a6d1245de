//! What the command-line settings structs share: which options the user gave, and the
//! `--preset` help that lists what each preset changes.
//!
//! Each command has one settings struct, derived with clap and saved as the run folder's
//! `config.json`. Its options show the `cpu` preset's values as their defaults; a
//! different `--preset` replaces every value the user did not give (clap's
//! [`ValueSource`] tells which), so a preset never overrides an explicit option.

use clap::parser::ValueSource;
use clap::{ArgMatches, ValueEnum};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A named set of settings; each command documents what its presets set (its
/// `--preset` help, from [`preset_help`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Sized for this project's 2-core CPU machines and the bundled images.
    Cpu,
    /// The paper's sizes (spec §7–§8), meant for DIV2K and a GPU.
    Paper,
}

/// Whether the user set option `id` (on the command line or through the environment),
/// as opposed to clap filling in its default. An id the command does not have is not
/// given.
pub fn given(m: &ArgMatches, id: &str) -> bool {
    m.try_get_raw(id).is_ok_and(|v| v.is_some())
        && matches!(
            m.value_source(id),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        )
}

/// Sets each listed field of `$to` that the user did not give to `$from`'s value.
macro_rules! fill_ungiven {
    ($m:expr, $to:expr, $from:expr, [$($field:ident),* $(,)?]) => {
        $( if !$crate::settings::given($m, stringify!($field)) {
            $to.$field = $from.$field.clone();
        } )*
    };
}
pub(crate) use fill_ungiven;

/// The long help of a `--preset` option: `intro`, then each preset's values that differ
/// from the first (the defaults shown on the options). Fields named in `internal` are
/// settings without an option; they are listed by name.
pub fn preset_help<T: Serialize>(intro: &str, presets: &[(&str, T)], internal: &[&str]) -> String {
    let json = |v: &T| serde_json::to_value(v).unwrap_or(Value::Null);
    let Some((first, base)) = presets.first() else {
        return intro.into();
    };
    let base = json(base);
    let mut out = format!("{intro}\n\n{first}: the defaults shown below.");
    for (name, p) in &presets[1..] {
        let diff: Vec<String> = match (json(p), &base) {
            (Value::Object(p), Value::Object(b)) => p
                .iter()
                .filter(|(k, v)| b.get(*k) != Some(*v) && k.as_str() != "preset")
                .map(|(k, v)| match internal.contains(&k.as_str()) {
                    true => format!("{k} = {}", plain(v)),
                    false => format!("--{} {}", k.replace('_', "-"), plain(v)),
                })
                .collect(),
            _ => Vec::new(),
        };
        out += &format!("\n{name}: {}.", diff.join(", "));
    }
    out
}

/// A JSON value as a user would type it.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "none".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Args, Command, FromArgMatches};

    #[derive(Debug, Args, Serialize, Clone)]
    struct Demo {
        #[arg(long, default_value_t = 8)]
        batch: usize,
        #[arg(long, default_value_t = 0.5)]
        lr: f64,
    }

    fn parse(args: &[&str]) -> (Demo, ArgMatches) {
        let m = Demo::augment_args(Command::new("demo")).get_matches_from(args);
        (Demo::from_arg_matches(&m).expect("parses"), m)
    }

    #[test]
    fn a_preset_fills_only_what_the_user_did_not_give() {
        let other = Demo { batch: 32, lr: 0.1 };
        let (mut d, m) = parse(&["demo", "--lr", "0.25"]);
        assert!(given(&m, "lr") && !given(&m, "batch") && !given(&m, "nothing"));
        fill_ungiven!(&m, d, other, [batch, lr]);
        assert_eq!((d.batch, d.lr), (32, 0.25));
    }

    #[test]
    fn preset_help_lists_the_differences() {
        let help = preset_help(
            "Start from:",
            &[
                ("cpu", Demo { batch: 8, lr: 0.5 }),
                (
                    "paper",
                    Demo {
                        batch: 16,
                        lr: 0.25,
                    },
                ),
            ],
            &["lr"],
        );
        assert_eq!(
            help,
            "Start from:\n\ncpu: the defaults shown below.\npaper: --batch 16, lr = 0.25."
        );
    }
}
