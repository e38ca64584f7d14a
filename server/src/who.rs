//! Who runs an apply from a terminal, for the audit record: `user@host`.

/// The account (`$USER`, else the account of this process's uid) and the host name.
pub fn os_account() -> String {
    let user = std::env::var("USER")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .or_else(|| whoami::fallible::username().ok())
        .unwrap_or_else(|| "unknown".into());
    let host = whoami::fallible::hostname().unwrap_or_else(|_| "unknown-host".into());
    format!("{user}@{host}")
}
