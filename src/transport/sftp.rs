//! The exchange server over SFTP (OpenSSH), through libssh2.
