//! Named sites: `$XDG_CONFIG_HOME/3700ftp/config.toml` read by the real binary, `SITE:PATH`
//! from argv, batch and the prompt, the precedence of the settings, `password_command`,
//! and the errors of a bad file.

use crate::common;

use common::{ftp, TestServer, PASSWORD, USER};
use std::path::Path;

/// Writes `text` as the config file under `home/config` and returns the launcher with
/// `XDG_CONFIG_HOME` pointing there (the launcher blanks it).
fn with_config(home: &Path, text: &str) -> assert_cmd::Command {
    let dir = home.join("config/3700ftp");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), text).unwrap();
    let mut cmd = ftp(home);
    cmd.env("XDG_CONFIG_HOME", home.join("config"));
    cmd
}

/// A config whose site `work` is the test server's `/pub/` as alice, the password from
/// `password_command`.
fn work_config(s: &TestServer) -> String {
    format!(
        "[sites.work]\nurl = \"ftp://{USER}@127.0.0.1:{}/pub/\"\npassword_command = \"echo '{PASSWORD}'\"\n",
        s.port
    )
}

fn out(o: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn a_site_from_argv_lists_and_copies_both_ways_with_password_command() {
    let s = TestServer::start();
    s.put("/pub/a.txt", b"alpha");
    s.put("/other/b.txt", b"beta");
    std::fs::create_dir_all(s.file("/uploads")).unwrap();
    let home = tempfile::tempdir().unwrap();
    let config = work_config(&s);
    // `work:` is the site's own directory; `work:/other` is absolute.
    let o = with_config(home.path(), &config)
        .args(["ls", "work:"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{:?}", out(&o));
    assert_eq!(out(&o).0, "a.txt\n");
    let o = with_config(home.path(), &config)
        .args(["ls", "work:/other"])
        .output()
        .unwrap();
    assert_eq!(out(&o).0, "b.txt\n", "{:?}", out(&o));
    // A download, then an upload to a path relative to the login directory.
    let o = with_config(home.path(), &config)
        .args(["cp", "work:/pub/a.txt", "got.txt"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{:?}", out(&o));
    assert_eq!(
        std::fs::read(home.path().join("got.txt")).unwrap(),
        b"alpha"
    );
    std::fs::write(home.path().join("report.pdf"), b"%PDF").unwrap();
    let o = with_config(home.path(), &config)
        .args(["cp", "report.pdf", "work:uploads/"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{:?}", out(&o));
    assert_eq!(
        std::fs::read(s.file("/uploads/report.pdf")).unwrap(),
        b"%PDF"
    );
}

#[test]
fn a_local_name_with_a_colon_stays_local() {
    let s = TestServer::start();
    std::fs::create_dir_all(s.file("/up")).unwrap();
    let home = tempfile::tempdir().unwrap();
    let config = work_config(&s);
    // `other` is no site, so `other:x` is a local file; `./work:x` is local by its `./`.
    std::fs::write(home.path().join("other:x"), b"one").unwrap();
    std::fs::write(home.path().join("work:x"), b"two").unwrap();
    let o = with_config(home.path(), &config)
        .args(["cp", "other:x", "work:/up/"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{:?}", out(&o));
    let o = with_config(home.path(), &config)
        .args(["cp", "./work:x", "work:/up/"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{:?}", out(&o));
    assert_eq!(std::fs::read(s.file("/up/other:x")).unwrap(), b"one");
    assert_eq!(std::fs::read(s.file("/up/work:x")).unwrap(), b"two");
}

#[test]
fn a_site_from_batch_lines_open_and_site_paths() {
    let s = TestServer::start();
    s.put("/pub/a.txt", b"alpha");
    s.put("/x/inner.txt", b"inner");
    let home = tempfile::tempdir().unwrap();
    let script = "open work\npwd\nls\nls work:/x\nget work:/x/inner.txt\nget a.txt\n";
    let o = with_config(home.path(), &work_config(&s))
        .write_stdin(script)
        .output()
        .unwrap();
    let (stdout, stderr) = out(&o);
    assert!(o.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stdout, "/pub/\na.txt\ninner.txt\n", "{stderr}");
    assert_eq!(
        std::fs::read(home.path().join("inner.txt")).unwrap(),
        b"inner"
    );
    assert_eq!(std::fs::read(home.path().join("a.txt")).unwrap(), b"alpha");
    // `3700ftp work` opens a session there too.
    let o = with_config(home.path(), &work_config(&s))
        .arg("work")
        .write_stdin("pwd\n")
        .output()
        .unwrap();
    assert_eq!(out(&o).0, "/pub/\n", "{:?}", out(&o));
}

#[test]
fn a_site_at_the_prompt_opens_and_completes() {
    let s = TestServer::start();
    s.put("/pub/a.txt", b"alpha");
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("config/3700ftp");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), work_config(&s)).unwrap();
    let mut cmd = common::command(home.path());
    cmd.env("XDG_CONFIG_HOME", home.path().join("config"));
    let mut p = common::pty::Pty::spawn(cmd);
    p.expect("3700ftp> ");
    // Tab completes the site's name after `open`.
    p.send("open wo\t");
    p.expect("open work");
    p.enter();
    let prompt = "alice@127.0.0.1:/pub/> ";
    p.expect(prompt);
    let listed = p.run("ls", prompt);
    assert!(listed.contains("a.txt"), "{listed}");
    p.line("quit");
    let status = p.exit_status();
    assert!(status.ends_with(", 0)"), "{status}");
}

#[test]
fn command_line_over_site_over_defaults() {
    let s = TestServer::start();
    s.put("/f.txt", b"x");
    let home = tempfile::tempdir().unwrap();
    let config = format!(
        "[defaults]\nactive = true\n\n[sites.act]\nurl = \"ftp://127.0.0.1:{0}/\"\n\n[sites.pas]\nurl = \"ftp://127.0.0.1:{0}/\"\nactive = false\n",
        s.port
    );
    let transcript = |args: &[&str]| {
        let o = with_config(home.path(), &config)
            .arg("-v")
            .args(args)
            .output()
            .unwrap();
        // The embedded server refuses EPRT for a listing; the transcript shows what was
        // tried, which is what this test is about.
        out(&o).0
    };
    let active = |t: &str| t.contains("> EPRT") || t.contains("> PORT");
    // [defaults] applies to a site that says nothing.
    assert!(active(&transcript(&["ls", "act:/"])));
    // The site's own value wins over [defaults].
    let t = transcript(&["ls", "pas:/"]);
    assert!(!active(&t) && t.contains("> EPSV"), "{t}");
    // The command line wins over the site.
    assert!(active(&transcript(&["--active", "ls", "pas:/"])));
}

#[test]
fn a_bad_file_is_one_line_naming_the_file_and_line() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("config/3700ftp/config.toml");
    let o = with_config(
        home.path(),
        "[defaults]\ntimeout = 5\n\n[sites.w]\nurl = \"ftp://h/\"\ntsl = true\n",
    )
    .args(["ls", "ftp://127.0.0.1:9/"])
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let stderr = out(&o).1;
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "config file {}, line 6: unknown field `tsl`",
            path.display()
        )),
        "{stderr}"
    );
    // A wrong type, in a file named by --config.
    let other = home.path().join("other.toml");
    std::fs::write(
        &other,
        "[sites.w]\nurl = \"ftp://h/\"\nparallel = \"many\"\n",
    )
    .unwrap();
    let o = ftp(home.path())
        .args(["--config"])
        .arg(&other)
        .args(["ls", "w:/"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(out(&o).1.contains(", line 3: "), "{:?}", out(&o));
    // A site the file does not define.
    let empty = home.path().join("empty.toml");
    std::fs::write(&empty, "").unwrap();
    let o = ftp(home.path())
        .args(["--config"])
        .arg(&empty)
        .args(["ls", "w:/"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        out(&o).1.contains("the config file has no site 'w'"),
        "{:?}",
        out(&o)
    );
    // --config names a file that must exist.
    let o = ftp(home.path())
        .args(["--config", "nope.toml", "ls", "ftp://127.0.0.1:9/"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(out(&o).1.contains("config file nope.toml"), "{:?}", out(&o));
}

#[test]
fn a_password_in_the_file_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let o = with_config(
        home.path(),
        "[sites.w]\nurl = \"ftp://me:s3cret@127.0.0.1:9/\"\n",
    )
    .args(["ls", "w:/"])
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let stderr = out(&o).1;
    assert!(
        stderr.contains("line 2: site 'w': no password in the config file"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"), "{stderr}");
}

#[test]
fn a_failing_password_command_is_a_login_error() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    let config = format!(
        "[sites.w]\nurl = \"ftp://{USER}@127.0.0.1:{}/\"\npassword_command = \"sh -c 'exit 3'\"\n",
        s.port
    );
    let o = with_config(home.path(), &config)
        .args(["ls", "w:/"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(4), "{:?}", out(&o));
    assert!(
        out(&o)
            .1
            .contains("password_command 'sh -c exit 3': exited with status 3"),
        "{:?}",
        out(&o)
    );
    assert_eq!(s.logins(), 0);
}
