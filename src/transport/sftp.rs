//! The exchange server over SFTP (OpenSSH), through libssh2.

/// Development stand-in; replaced by the sftp branch.
pub fn open(
    _url: &str,
    _raw: &crate::config::RawServer,
) -> Result<super::local::LocalTransport, super::TransportError> {
    Err(super::TransportError::Refused("sftp not built yet".into()))
}
