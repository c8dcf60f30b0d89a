//! Interop suite: the real `3700ftp` binary against four real FTP servers
//! (vsftpd, pure-ftpd, proftpd, pyftpdlib) started on 127.0.0.1.
//!
//! ```text
//! sudo bash .ci/install-servers.sh        # once (root); see docs/servers.md
//! cargo test --features interop --test interop
//! cargo test --features interop --test interop -- proftpd::   # one server
//! ```
//!
//! Every test in `cases` runs once per server, as `<server>::<test>`.

mod cases;
mod client;
mod server;

use server::Kind;

macro_rules! for_each_server {
    ($($test:ident),* $(,)?) => {
        for_each_server!(@server vsftpd, Kind::Vsftpd, $($test),*);
        for_each_server!(@server pure_ftpd, Kind::PureFtpd, $($test),*);
        for_each_server!(@server proftpd, Kind::Proftpd, $($test),*);
        for_each_server!(@server pyftpdlib, Kind::Pyftpdlib, $($test),*);
    };
    (@server $module:ident, $kind:expr, $($test:ident),*) => {
        mod $module {
            use super::*;
            $(
                #[test]
                fn $test() {
                    cases::$test($kind);
                }
            )*
        }
    };
}

for_each_server!(
    ls_lists_directory,
    ls_missing_path_fails,
    ls_empty_directory_succeeds,
    ls_directory_with_spaces_in_name,
    mkdir_and_rmdir,
    rmdir_non_empty_fails,
    rm_file_and_missing_file,
    cp_binary_exact_both_ways,
    cp_empty_file_both_ways,
    cp_overwrites_existing,
    cp_100mib_sha256_both_ways,
    cp_unicode_and_space_names,
    cp_keeps_name_for_directory_destinations,
    cp_download_missing_file_fails,
    nested_directories,
    mv_upload_removes_local_source,
    mv_download_removes_remote_source,
    mv_keeps_source_when_copy_fails,
    wrong_password_fails_login,
    verbose_trace_masks_password,
    batch_full_cycle,
    batch_cd_pwd_and_relative_paths,
    batch_stops_at_first_failure,
    batch_failed_put_stops_and_writes_nothing,
);

/// The harness itself, without the client: each server starts, greets, and
/// its LIST works for the user with the awkward password (checked with
/// curl, which the install script installs).
mod harness {
    use super::server::{Kind, Server};

    fn curl_list(kind: Kind) {
        let server = Server::start(kind);
        std::fs::write(server.home().join("harness-probe.txt"), b"probe").unwrap();
        let out = std::process::Command::new("curl")
            .args(["-sS", "--max-time", "20", &server.url("/")])
            .output()
            .expect("run curl");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("harness-probe.txt"),
            "[{kind}] curl LIST failed: {:?}\nstdout: {stdout}\nstderr: {}\nserver log:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            server.log_text()
        );
    }

    #[test]
    fn vsftpd_serves_list() {
        curl_list(Kind::Vsftpd);
    }

    #[test]
    fn pure_ftpd_serves_list() {
        curl_list(Kind::PureFtpd);
    }

    #[test]
    fn proftpd_serves_list() {
        curl_list(Kind::Proftpd);
    }

    #[test]
    fn pyftpdlib_serves_list() {
        curl_list(Kind::Pyftpdlib);
    }
}
