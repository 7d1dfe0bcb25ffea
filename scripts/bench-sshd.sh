# A throwaway OpenSSH server on 127.0.0.1 for the benchmarks (sourced, not run).
# start_bench_sshd REMOTE_ROOT sets PORT, KEY, KH, USER_NAME, URL, RCLONE_REMOTE and SFTP, and
# stops the server when the calling script exits.

SSHD_DIR=$(mktemp -d /tmp/compo-bench-sshd.XXXXXX)
SSHD_PID=""
cleanup() {
    if [[ -n $SSHD_PID ]]; then
        # The per-connection processes are children of the listener; end them by id first.
        local kids
        kids=$(ps -o pid= --ppid "$SSHD_PID" 2>/dev/null || true)
        # shellcheck disable=SC2086
        [[ -z $kids ]] || kill -KILL $kids 2>/dev/null || true
        kill -KILL "$SSHD_PID" 2>/dev/null || true
    fi
    rm -rf "$SSHD_DIR"
}
trap cleanup EXIT

start_bench_sshd() {
    mkdir -p /run/sshd "$1"
    ssh-keygen -q -t ed25519 -N "" -f "$SSHD_DIR/host_ed25519"
    ssh-keygen -q -t ed25519 -N "" -f "$SSHD_DIR/client_ed25519"
    cp "$SSHD_DIR/client_ed25519.pub" "$SSHD_DIR/authorized_keys"
    while :; do
        PORT=$((20000 + RANDOM % 20000))
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || break
    done
    cat >"$SSHD_DIR/sshd_config" <<CONF
Port $PORT
ListenAddress 127.0.0.1
HostKey $SSHD_DIR/host_ed25519
PidFile $SSHD_DIR/sshd.pid
AuthorizedKeysFile $SSHD_DIR/authorized_keys
PermitRootLogin yes
UsePAM no
StrictModes no
MaxStartups 100
MaxSessions 64
Subsystem sftp internal-sftp
CONF
    /usr/sbin/sshd -D -e -f "$SSHD_DIR/sshd_config" 2>"$SSHD_DIR/sshd.log" &
    SSHD_PID=$!
    disown "$SSHD_PID"  # no "Killed" notice from bash at the end
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
        sleep 0.1
    done
    read -r kind key _ <"$SSHD_DIR/host_ed25519.pub"
    KH=$SSHD_DIR/known_hosts
    echo "[127.0.0.1]:$PORT $kind $key" >"$KH"
    KEY=$SSHD_DIR/client_ed25519
    USER_NAME=$(id -un)
    URL="sftp://$USER_NAME@127.0.0.1:$PORT$1"
    RCLONE_REMOTE=":sftp,host=127.0.0.1,port=$PORT,user=$USER_NAME,key_file=$KEY,known_hosts_file=$KH:"
    SFTP=(sftp -q -b - -P "$PORT" -i "$KEY" -o BatchMode=yes -o UserKnownHostsFile="$KH"
          "$USER_NAME@127.0.0.1")
}
