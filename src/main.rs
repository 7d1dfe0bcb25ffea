#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    disable_transparent_huge_pages();
    compo_exchange::cli::main()
}

/// Where the kernel backs anonymous memory with transparent huge pages by default, every batch
/// buffer and key-index growth faults in and zeroes 2 MiB at a time: on the validate benchmark
/// that cost about 7% of wall time and doubled peak RSS. Small pages are touched only as far as
/// they are used. Failure (an old kernel, a sandbox forbidding prctl) only loses that saving.
fn disable_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and only sets a flag on this process.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
