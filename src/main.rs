fn main() -> std::process::ExitCode {
    compo_exchange::cli::main()
}
