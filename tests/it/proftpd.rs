//! What only ProFTPD mod_sftp shows: a server without posix-rename killed between the two
//! renames of the fallback replace, and what the log and `status` say about the server.
