//! How a keyring file's path is shown in errors and events: as given,
//! unless it looks like key material given where a path belongs (a spec
//! `ID:ALGORITHM:KEY`, or a bare key), which is never shown. The operator
//! command shares this module (`src/bin/sealed-session/keys.rs`).

/// Whether a path given for a keyring file is more likely a spec or a key
/// (which hold key material, so are never printed).
pub(crate) fn looks_like_a_spec(path: &str) -> bool {
    path.contains(':') || path.len() > 200 || looks_like_a_key(path)
}

/// 43 or 44 base64 characters: a bare key given where a path belongs.
fn looks_like_a_key(path: &str) -> bool {
    (43..=44).contains(&path.len())
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_+/=".contains(&b))
}
