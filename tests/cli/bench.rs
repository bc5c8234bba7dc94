//! `fph bench`: a tiny run still generates, records, measures and prints its figure lines,
//! so the command cannot rot. No figure is checked: speed is never asserted in tests.

use freedompay_harness::cli::{Figures, Phase};

use crate::support::Dir;

/// The figure lines a bench printed, checked to be those of `phases`, in order.
fn figures_in(stdout: &str, phases: &[Phase]) -> Vec<Figures> {
    let figures: Vec<Figures> = stdout.lines().filter_map(Figures::parse_line).collect();
    let printed: Vec<Phase> = figures.iter().map(|f| f.phase).collect();
    assert_eq!(printed, phases, "{stdout}");
    figures
}

#[test]
fn a_five_case_replay_bench_prints_its_figure_lines() {
    let dir = Dir::new();
    let suite = dir.path().join("suite");
    let run = dir
        .fph()
        .args(["bench", "--cases", "5", "--phases", "replay", "--dir"])
        .arg_path(&suite)
        .run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let figures = figures_in(&run.stdout, &[Phase::Record, Phase::Parse, Phase::Replay]);
    for figure in &figures {
        assert_eq!(figure.cases, 5, "{}", run.stdout);
        assert_eq!(figure.requests, 25, "five calls per case: {}", run.stdout);
    }
    assert!(run.stdout.contains("| replay | 8 | 5 |"), "{}", run.stdout);
    assert!(run.stdout.contains("the parse floor"), "{}", run.stdout);
    // The suite is real: every case has its cassette, and a second run reuses them.
    assert_eq!(dir.files("suite/recordings").len(), 5 + 1);
    let again = dir
        .fph()
        .args(["bench", "--cases", "5", "--phases", "replay", "--dir"])
        .arg_path(&suite)
        .run();
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stdout.contains("reusing"), "{}", again.stdout);
    assert!(!again.stdout.contains("phase=record"), "{}", again.stdout);
}

#[test]
fn the_ceilings_for_live_are_measured_and_compared() {
    let dir = Dir::new();
    let suite = dir.path().join("suite");
    let run = dir
        .fph()
        .args(["bench", "--cases", "5", "--phases", "emulator,live"])
        .args(["--jobs", "4", "--emulator-secs", "0.2", "--dir"])
        .arg_path(&suite)
        .run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let figures = figures_in(
        &run.stdout,
        &[Phase::Record, Phase::Emulator, Phase::Client, Phase::Live],
    );
    // Both ceilings answered (a failing answer fails the phase, so these are real ones).
    for ceiling in &figures[1..3] {
        assert!(ceiling.requests > 0, "{}", run.stdout);
    }
    let row = |name: &str| {
        run.stdout
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("no {name} row: {}", run.stdout))
            .to_owned()
    };
    assert!(row("client alone (status)").contains("× the emulator's rate"));
    let live = row("live");
    assert!(
        live.contains("× the emulator's rate, ") && live.contains("× the client's"),
        "{live}"
    );
}
