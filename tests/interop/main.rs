//! Interop suite: the real `3700ftp` binary against four real FTP servers
//! (vsftpd, pure-ftpd, proftpd, pyftpdlib) started on 127.0.0.1.
//!
//! ```text
//! sudo bash .ci/install-servers.sh        # once (root); see docs/servers.md
//! cargo test --features interop --test interop
//! cargo test --features interop --test interop -- proftpd::   # one server
//! ```
//!
//! Every test in `cases` runs once per server, as `<server>::<test>`; the
//! FTPS tests in `ftps` run against vsftpd only, as `ftps_vsftpd::<test>`.

mod bytenames;
mod cases;
mod client;
#[path = "../common/mod.rs"]
mod common;
mod feature_cases;
mod ftps;
mod mirror_cases;
mod proxy;
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
    upload_proof_ahead_only_where_known,
    downloads_ride_with_retr_only_where_known,
    uploads_ready_the_next_transfer_only_where_known,
    one_shot_first_command_rides_with_pass_only_where_known,
    cp_segments_byte_exact,
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
    shell_commands_people_reach_for,
);

/// Names that are not UTF-8, on every server (`bytenames`).
macro_rules! bytes_on_each_server {
    ($($server:ident => $kind:expr),*) => {
        $(
            mod $server {
                use super::*;
                #[test]
                fn latin1_name_listed_downloaded_renamed_deleted() {
                    bytenames::latin1_name_listed_downloaded_renamed_deleted($kind);
                }
                #[test]
                fn mirror_keeps_names_that_are_not_utf8() {
                    bytenames::mirror_keeps_names_that_are_not_utf8($kind);
                }
            }
        )*
    };
}

mod bytes {
    use super::*;
    bytes_on_each_server!(
        vsftpd => Kind::Vsftpd,
        pure_ftpd => Kind::PureFtpd,
        proftpd => Kind::Proftpd
    );
}

/// `mirror`, `rm -r`, `mkdir -p` (issue 13) on every server, as `mirror_<server>::<test>`.
macro_rules! mirror_on_every_server {
    ($($test:ident),* $(,)?) => {
        mirror_on_every_server!(@server mirror_vsftpd, Kind::Vsftpd, $($test),*);
        mirror_on_every_server!(@server mirror_pure_ftpd, Kind::PureFtpd, $($test),*);
        mirror_on_every_server!(@server mirror_proftpd, Kind::Proftpd, $($test),*);
        mirror_on_every_server!(@server mirror_pyftpdlib, Kind::Pyftpdlib, $($test),*);
    };
    (@server $module:ident, $kind:expr, $($test:ident),*) => {
        mod $module {
            use super::*;
            $(
                #[test]
                fn $test() {
                    mirror_cases::$test($kind);
                }
            )*
        }
    };
}

mirror_on_every_server!(
    mirror_download_then_nothing_then_changes,
    mirror_download_rides_with_retr_where_known,
    mirror_upload_then_nothing_then_changes,
    mirror_dry_run_changes_nothing,
    mirror_delete_after_a_failed_transfer_deletes_nothing,
    rm_r_and_mkdir_p,
    mirror_filters_max_delete_and_an_interrupted_run,
);

/// FTPS against vsftpd (explicit `--tls` and implicit `ftps://`), with a
/// private CA made by `openssl` at startup: `ftps::<test>`.
mod ftps_vsftpd {
    macro_rules! ftps_tests {
        ($($test:ident),* $(,)?) => {
            $(
                #[test]
                fn $test() {
                    super::ftps::$test();
                }
            )*
        };
    }

    ftps_tests!(
        explicit_full_cycle,
        explicit_verbose_trace,
        explicit_10mib_sha256_both_ways,
        explicit_segments_byte_exact,
        explicit_untrusted_certificate_refused,
        explicit_wrong_host_name_refused,
        explicit_localhost_name_verified,
        explicit_insecure_works_with_warning,
        explicit_plain_login_refused,
        explicit_batch_session,
        explicit_port_with_implicit_tls_fails,
        implicit_ls_and_cp_both_ways,
        implicit_batch_session,
        implicit_untrusted_certificate_refused,
        implicit_port_with_plain_ftp_fails,
    );
}

/// Proxies (microsocks, tinyproxy), active mode, hash verification and `cp
/// -p`, each against the servers named in the test: `features::<test>`.
mod features {
    use super::feature_cases as f;
    use super::Kind;

    macro_rules! tests {
        ($($name:ident => $body:expr),* $(,)?) => {
            $(
                #[test]
                fn $name() {
                    $body;
                }
            )*
        };
    }

    tests!(
        proxy_socks5_all_operations_vsftpd => f::proxy_socks5_all_operations_vsftpd(),
        proxy_socks5_all_operations_pyftpdlib => f::proxy_socks5_all_operations_pyftpdlib(),
        proxy_socks5_auth_all_operations_pure_ftpd => f::proxy_socks5_auth_all_operations_pure_ftpd(),
        proxy_http_all_operations_vsftpd => f::proxy_http_all_operations_vsftpd(),
        proxy_http_all_operations_pyftpdlib => f::proxy_http_all_operations_pyftpdlib(),
        proxy_http_auth_all_operations_proftpd => f::proxy_http_auth_all_operations_proftpd(),
        proxy_from_environment_and_noproxy => f::proxy_from_environment_and_noproxy(),
        proxy_refusals_exit_3 => f::proxy_refusals_exit_3(),
        active_mode_vsftpd => f::active_mode(Kind::Vsftpd),
        active_mode_pure_ftpd => f::active_mode(Kind::PureFtpd),
        hash_proftpd_proves_transfers => f::hash_proftpd_proves_transfers(),
        hash_required_fails_on_vsftpd => f::hash_required_fails_on_vsftpd(),
        hash_summary_counts_recursive_copy => f::hash_summary_counts_recursive_copy(),
        preserve_download_vsftpd => f::preserve_download(Kind::Vsftpd),
        preserve_download_pure_ftpd => f::preserve_download(Kind::PureFtpd),
        preserve_download_proftpd => f::preserve_download(Kind::Proftpd),
        preserve_download_pyftpdlib => f::preserve_download(Kind::Pyftpdlib),
        preserve_upload_vsftpd => f::preserve_upload(Kind::Vsftpd),
        preserve_upload_pure_ftpd => f::preserve_upload(Kind::PureFtpd),
        preserve_upload_proftpd => f::preserve_upload(Kind::Proftpd),
        preserve_upload_pyftpdlib => f::preserve_upload(Kind::Pyftpdlib),
        mirror_checksum_proftpd => super::mirror_cases::mirror_checksum_proftpd(),
    );
}

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

    /// curl over FTPS, trusting only the server's private CA: explicit
    /// (`--ssl-reqd` on ftp://) and implicit (ftps://).
    fn curl_list_tls(kind: Kind) {
        let server = Server::start(kind);
        std::fs::write(server.home().join("harness-probe.txt"), b"probe").unwrap();
        let ca = server.ca_file().to_str().unwrap().to_owned();
        let out = std::process::Command::new("curl")
            .args(["-sS", "--max-time", "20", "--ssl-reqd", "--cacert", &ca])
            .arg(server.url("/"))
            .output()
            .expect("run curl");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("harness-probe.txt"),
            "[{kind}] curl LIST over TLS failed: {:?}\nstdout: {stdout}\nstderr: {}\nserver log:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            server.log_text()
        );
    }

    #[test]
    fn vsftpd_tls_serves_list() {
        curl_list_tls(Kind::VsftpdTls);
    }

    #[test]
    fn vsftpd_implicit_tls_serves_list() {
        curl_list_tls(Kind::VsftpdImplicitTls);
    }
}
