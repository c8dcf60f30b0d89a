//! `--generate`: the man page and completion scripts, checked by the tools that read them
//! (bash always; groff, zsh and fish when installed), and `--color`. No network.

use std::process::Command;

use ftp3700::commands::{Scope, COMMANDS};

fn bin() -> String {
    env!("CARGO_BIN_EXE_3700ftp").to_string()
}

fn generate(kind: &str) -> String {
    let out = Command::new(bin())
        .args(["--generate", kind])
        .output()
        .unwrap();
    assert!(out.status.success(), "--generate {kind}: {:?}", out);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn installed(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `script` in bash with the completion loaded; returns stdout.
fn bash(script: &str, dir: &std::path::Path) -> String {
    let full = format!(
        "source <('{}' --generate complete-bash) || exit 9\n{script}",
        bin()
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &full])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{script}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// What the bash completion offers for the words typed (the last one is being completed).
fn complete_bash(words: &[&str], dir: &std::path::Path) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let script = format!(
        "COMP_WORDS=(3700ftp {}); COMP_CWORD={}; _3700ftp; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        quoted.join(" "),
        words.len()
    );
    bash(&script, dir)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn every_operation_is_in_the_man_page_and_every_completion_script() {
    for kind in [
        "man",
        "complete-bash",
        "complete-zsh",
        "complete-fish",
        "complete-powershell",
    ] {
        let text = generate(kind).replace("\\-", "-");
        for spec in COMMANDS.iter().filter(|s| s.scope == Scope::Everywhere) {
            for name in std::iter::once(&spec.name).chain(spec.aliases) {
                assert!(text.contains(name), "{kind} lacks {name}");
            }
            for flag in spec.flags {
                assert!(
                    text.contains(flag.long),
                    "{kind} lacks {} --{}",
                    spec.name,
                    flag.long
                );
            }
        }
    }
    // The man page documents the session-only commands too.
    let man = generate("man").replace("\\-", "-");
    for spec in COMMANDS {
        assert!(
            man.contains(&format!("\\fB{}", spec.name)),
            "man lacks {}",
            spec.name
        );
    }
}

#[test]
fn bash_accepts_the_script_and_registers_it() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("3700ftp.bash");
    std::fs::write(&script, generate("complete-bash")).unwrap();
    let out = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(out.status.success(), "bash -n: {out:?}");
    assert_eq!(
        bash("complete -p 3700ftp", dir.path()).trim(),
        "complete -F _3700ftp 3700ftp"
    );
}

#[test]
fn bash_completes_operations_options_values_and_local_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("report.pdf"), "x").unwrap();
    let d = dir.path();
    assert_eq!(complete_bash(&["c"], d), ["cp", "copy", "cat"]);
    assert_eq!(complete_bash(&["-v", "rm"], d), ["rm", "rmdir"]);
    let cp = complete_bash(&["cp", "-"], d);
    for want in ["-r", "--recursive", "--parallel", "--verbose", "--timeout"] {
        assert!(cp.iter().any(|w| w == want), "cp - lacks {want}: {cp:?}");
    }
    let ls = complete_bash(&["ls", "--"], d);
    assert!(ls.iter().any(|w| w == "--json"), "{ls:?}");
    assert!(!ls.iter().any(|w| w == "--parallel"), "{ls:?}");
    assert_eq!(
        complete_bash(&["--color", ""], d),
        ["auto", "always", "never"]
    );
    assert_eq!(
        complete_bash(&["--generate", "complete-f"], d),
        ["complete-fish"]
    );
    // Local operands complete as file names, also after an option with a value.
    assert_eq!(complete_bash(&["cp", "rep"], d), ["report.pdf"]);
    assert_eq!(
        complete_bash(&["--timeout", "5", "mv", "-j", "2", "ftp://h/x", "rep"], d),
        ["report.pdf"]
    );
    // bash splits `--opt=value` at the `=`.
    assert_eq!(complete_bash(&["--color", "=", "al"], d), ["always"]);
    assert_eq!(
        complete_bash(&["--color", "="], d),
        ["auto", "always", "never"]
    );
    assert_eq!(
        complete_bash(&["--timeout", "=", "5", "cp", "-j", "=", "2", "rep"], d),
        ["report.pdf"]
    );
    // A remote operand is not a local file; an option's free value is not either.
    assert!(complete_bash(&["rm", "rep"], d).is_empty());
    assert!(complete_bash(&["cp", "-j", "rep"], d).is_empty());
    assert_eq!(complete_bash(&["--cacert", "rep"], d), ["report.pdf"]);
}

#[test]
fn zsh_and_fish_parse_their_scripts_when_installed() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, kind, args) in [
        ("zsh", "complete-zsh", vec!["-n"]),
        ("fish", "complete-fish", vec!["--no-execute"]),
    ] {
        if !installed(shell) {
            eprintln!("{shell} not installed: skipped");
            continue;
        }
        let file = dir.path().join(kind);
        std::fs::write(&file, generate(kind)).unwrap();
        let out = Command::new(shell).args(&args).arg(&file).output().unwrap();
        assert!(out.status.success(), "{shell}: {out:?}");
        assert!(out.stderr.is_empty(), "{shell}: {out:?}");
    }
}

#[test]
fn groff_renders_the_man_page_without_warnings_when_installed() {
    if !installed("groff") {
        eprintln!("groff not installed: skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("3700ftp.1");
    std::fs::write(&page, generate("man")).unwrap();
    let out = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-P-cbou"])
        .arg(&page)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(warnings.is_empty(), "groff: {warnings}");
    let text = String::from_utf8_lossy(&out.stdout);
    for section in [
        "NAME",
        "SYNOPSIS",
        "EXIT STATUS",
        "ENVIRONMENT",
        "FILES",
        "SEE ALSO",
    ] {
        assert!(text.contains(section), "{section}");
    }
}

/// The stderr of a usage error (no network: the operand is not a URL).
fn error_with(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .args(["ls", "not-a-url"])
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn color_follows_the_flag_then_no_color_and_clicolor_force() {
    let red = "\u{1b}[31m";
    // stderr is a pipe here: no color by default.
    assert!(!error_with(&[], &[]).contains(red));
    assert!(error_with(&["--color", "always"], &[]).contains(red));
    assert!(error_with(&["--color=always"], &[("NO_COLOR", "1")]).contains(red));
    assert!(error_with(&[], &[("CLICOLOR_FORCE", "1")]).contains(red));
    assert!(!error_with(&[], &[("CLICOLOR_FORCE", "0")]).contains(red));
    assert!(!error_with(&[], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).contains(red));
    assert!(!error_with(&["--color", "never"], &[("CLICOLOR_FORCE", "1")]).contains('\u{1b}'));
    // clap's own errors follow the flag too.
    let clap_error = |color: &str| {
        let out = Command::new(bin())
            .args(["--timeout", "abc", "--color", color, "ls", "x"])
            .env("CLICOLOR_FORCE", "1")
            .env_remove("NO_COLOR")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8(out.stderr).unwrap()
    };
    assert!(clap_error("always").contains('\u{1b}'));
    assert!(!clap_error("never").contains('\u{1b}'));
    // Also after the operation, like every global option.
    let mut cmd = Command::new(bin());
    let out = cmd
        .args(["ls", "not-a-url", "--color", "always"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains(red));
}

#[test]
fn help_points_to_the_man_page_not_to_source_paths() {
    let out = Command::new(bin()).arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("--generate man"), "{help}");
    assert!(!help.contains("docs/"), "{help}");
    assert!(help.contains("--color"), "{help}");
}
