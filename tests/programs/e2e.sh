#!/bin/bash
# End-to-end over loopback (issue 7, "Tests"): our client and OpenSSH's
# client against sshrpcd in every mode and call form, our client against
# OpenSSH's sshd with the --stdio subsystem, --hosts against three servers,
# and bad use of both programs. Usage: e2e.sh BUILD_DIR
set -u
build=$(cd "${1:-build}" && pwd)
bin=$build/programs
work=$(mktemp -d /tmp/sshrpc-e2e.XXXXXX)
pids=()
passed=0
failed=0
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && echo "     $2"; }
check_eq() { # name expected actual
	if [ "$2" == "$3" ]; then ok "$1"; else bad "$1" "expected [$2] got [$3]"; fi
}

ssh-keygen -q -t ed25519 -N '' -C e2e -f "$work/id"
ssh-keygen -q -t ed25519 -N '' -f "$work/hostkey"
cp "$work/id.pub" "$work/authorized_keys"

# start_server NAME [args...]: starts sshrpcd on a free port, sets PORT_<NAME>
start_server() {
	local name=$1
	shift
	"$bin/sshrpcd" -p 127.0.0.1:0 -h "$work/hostkey" -o AuthorizedKeysFile="$work/authorized_keys" \
		-o LogLevel=ERROR "$@" 2>"$work/$name.log" &
	pids+=($!)
	local port=""
	for _ in $(seq 100); do
		port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/$name.log")
		[ -n "$port" ] && break
		sleep 0.05
	done
	eval "PORT_$name=$port"
	[ -n "$port" ] || { bad "server $name starts" "$(cat "$work/$name.log")"; exit 1; }
}

start_server a
client() { "$bin/sshrpc" -p "$PORT_a" -i "$work/id" -o UserKnownHostsFile="$work/known_hosts" \
	-o StrictHostKeyChecking=accept-new -o BatchMode=yes "$@"; }

# --- our client, every mode --------------------------------------------------
for mode in subsystem shell exec-mod exec; do
	out=$(client --mode $mode 127.0.0.1 'sys:ping()' 'sys:echo(<<"abc">>)' 'sys:add(18446744073709551615,1)' \
		'sys:echo({a,[1,2.5,"x"],#{k => v}})' 2>&1)
	check_eq "sshrpc --mode $mode: four calls" \
		'{ok,pong}
{ok,<<"abc">>}
{ok,18446744073709551616}
{ok,{a,[1,2.5,"x"],#{k => v}}}' "$out"
	out=$(client --mode $mode 127.0.0.1 'nosuch:call(1)' 2>&1)
	rc=$?
	check_eq "sshrpc --mode $mode: undefined function" '{error,{undef,{nosuch,call,1}}}' "$out"
	check_eq "sshrpc --mode $mode: exit status 1 on an error reply" 1 "$rc"
done
grep -q "^\[127.0.0.1\]:$PORT_a ssh-ed25519 " "$work/known_hosts" && ok "known_hosts got the new host (accept-new)" \
	|| bad "known_hosts got the new host (accept-new)" "$(cat "$work/known_hosts" 2>&1)"

# A changed host key is refused with StrictHostKeyChecking=yes.
sed "s/ssh-ed25519 .*/$(cut -d' ' -f1,2 "$work/id.pub")/" "$work/known_hosts" >"$work/known_hosts_bad"
out=$("$bin/sshrpc" -p "$PORT_a" -i "$work/id" -o UserKnownHostsFile="$work/known_hosts_bad" \
	-o StrictHostKeyChecking=yes 127.0.0.1 'sys:ping()' 2>&1)
rc=$?
check_eq "changed host key: exit 255" 255 "$rc"

# --- OpenSSH's client against sshrpcd --------------------------------------------
ossh() { ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	-o IdentitiesOnly=yes -o LogLevel=ERROR -i "$work/id" -p "$PORT_a" 127.0.0.1 "$@"; }
got=$(ossh '{mfa,{sys,echo,[<<"abc">>]}}.' | od -An -tx1 | tr -d ' \n')
# term_to_binary({ok,<<"abc">>})
check_eq "ssh exec {mfa,...}: ETF reply byte for byte" "836802640002 6f6b6d00000003616263" "${got:0:12} ${got:12}"
out=$(ossh 'sys:add(2,3).')
check_eq "ssh exec call syntax: term text reply" "{ok,5}" "$out"
ossh 'sys:ping().' >/dev/null
check_eq "ssh exec: exit-status 0 for {ok,_}" 0 $?
ossh 'nosuch:f().' >/dev/null
check_eq "ssh exec: exit-status 1 for {error,_}" 1 $?
out=$("$bin/sshrpc" --encode 'sys:ping()' 'sys:echo(<<"x">>)' 'sys:add(1,2)' | ossh -s sshrpc | "$bin/sshrpc" --decode)
check_eq "ssh -s sshrpc with framed requests on stdin" '{ok,pong}
{ok,<<"x">>}
{ok,3}' "$out"

# --- our client against OpenSSH's sshd with the --stdio subsystem -----------------
mkdir -p /run/sshd
sshd_port=$(( (RANDOM % 20000) + 30000 ))
cat >"$work/sshd_config" <<CFG
Port $sshd_port
ListenAddress 127.0.0.1
HostKey $work/hostkey
AuthorizedKeysFile $work/authorized_keys
PidFile $work/sshd.pid
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
LogLevel ERROR
Subsystem sshrpc $bin/sshrpcd --stdio
CFG
if [ "$(id -u)" = 0 ]; then
	/usr/sbin/sshd -D -e -f "$work/sshd_config" 2>"$work/sshd.log" &
	pids+=($!)
	for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$sshd_port) 2>/dev/null && break; sleep 0.1; done
	out=$("$bin/sshrpc" -p "$sshd_port" -i "$work/id" -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no \
		127.0.0.1 'sys:ping()' 'sys:echo([1,2,3])' 2>&1)
	check_eq "sshrpc against OpenSSH sshd + sshrpcd --stdio subsystem" '{ok,pong}
{ok,[1,2,3]}' "$out"
else
	echo "skip OpenSSH sshd test: needs root for /run/sshd (privilege separation)"
fi

# --- --hosts against three servers -----------------------------------------------------
start_server b
start_server c
out=$("$bin/sshrpc" -i "$work/id" -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no \
	--hosts "127.0.0.1:$PORT_a,127.0.0.1:$PORT_b,127.0.0.1:$PORT_c" 'sys:add(1,1)' 2>&1)
check_eq "--hosts three servers at once" '127.0.0.1: {ok,2}
127.0.0.1: {ok,2}
127.0.0.1: {ok,2}' "$out"

# --- access control: rpc-allow ----------------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -f "$work/id_limited"
echo "rpc-allow=\"sys:ping/0\" $(cat "$work/id_limited.pub")" >>"$work/authorized_keys"
start_server d
out=$("$bin/sshrpc" -p "$PORT_d" -i "$work/id_limited" -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no \
	127.0.0.1 'sys:ping()' 'sys:echo(1)' 2>&1)
check_eq "rpc-allow limits a key" '{ok,pong}
{error,{denied,{sys,echo,1}}}' "$out"

# --- --trace, ssh-agent, SIGHUP, SIGTERM -------------------------------------------------
"$bin/sshrpc" -p "$PORT_a" -i "$work/id" -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no \
	--trace "$work/trace.jsonl" 127.0.0.1 'sys:ping()' >/dev/null 2>&1
if grep -q '"ev":"kex"' "$work/trace.jsonl" && grep -q '"ev":"pkt"' "$work/trace.jsonl" &&
	! grep -qv '^{.*}$' "$work/trace.jsonl"; then
	ok "--trace writes JSON lines for packets and kex steps ($(wc -l <"$work/trace.jsonl") lines)"
else
	bad "--trace writes JSON lines for packets and kex steps" "$(head -3 "$work/trace.jsonl" 2>&1)"
fi

eval "$(ssh-agent -s)" >/dev/null
ssh-add -q "$work/id" 2>/dev/null
out=$(HOME="$work/nohome" "$bin/sshrpc" -p "$PORT_a" -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no \
	127.0.0.1 'sys:ping()' 2>&1)
check_eq "sshrpc authenticates with an ssh-agent key and no identity file" '{ok,pong}' "$out"
ssh-agent -k >/dev/null 2>&1

# SIGHUP re-reads authorized_keys: a key added afterwards is accepted.
ssh-keygen -q -t ed25519 -N '' -f "$work/id_late"
start_server e
out=$("$bin/sshrpc" -p "$PORT_e" -i "$work/id_late" -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no \
	-o IdentitiesOnly=yes 127.0.0.1 'sys:ping()' 2>&1)
check_eq "a key not yet in authorized_keys is refused" 'sshrpc: Permission denied (publickey)' "$out"
cat "$work/id_late.pub" >>"$work/authorized_keys"
kill -HUP "${pids[-1]}"
sleep 0.3
out=$("$bin/sshrpc" -p "$PORT_e" -i "$work/id_late" -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no \
	-o IdentitiesOnly=yes 127.0.0.1 'sys:ping()' 2>&1)
check_eq "after SIGHUP the new key is accepted" '{ok,pong}' "$out"

# SIGTERM: an open session gets SSH_MSG_DISCONNECT (by application) and the server exits 0.
epid=${pids[-1]}
ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	-o IdentitiesOnly=yes -i "$work/id" -p "$PORT_e" -v -s 127.0.0.1 sshrpc < <(sleep 5) >/dev/null 2>"$work/term.log" &
spid=$!
sleep 0.5
kill -TERM "$epid"
wait "$epid"
check_eq "SIGTERM: sshrpcd exits 0" 0 $?
wait "$spid" 2>/dev/null
if grep -qi "disconnect.*server shutting down\|Received disconnect.*11" "$work/term.log"; then
	ok "SIGTERM: the client got DISCONNECT by application"
else
	bad "SIGTERM: the client got DISCONNECT by application" "$(tail -3 "$work/term.log")"
fi

# --- bad use ------------------------------------------------------------------------------
expect_fail() { # name want_status command...
	local name=$1 want=$2
	shift 2
	local err
	err=$("$@" 2>&1 >/dev/null)
	local rc=$?
	if [ "$rc" = "$want" ] && [ "$(printf '%s\n' "$err" | grep -c .)" = 1 ]; then
		ok "$name ($err)"
	else
		bad "$name" "status $rc, stderr: $err"
	fi
}
expect_fail "sshrpcd: unknown option" 2 "$bin/sshrpcd" -p 127.0.0.1:0 -o Bogus=1
expect_fail "sshrpcd: bad value" 2 "$bin/sshrpcd" -p 127.0.0.1:0 -o MaxAuthTries=many
expect_fail "sshrpcd: unreadable host key" 2 "$bin/sshrpcd" -p 127.0.0.1:0 -h "$work/no-such-key"
expect_fail "sshrpcd: port in use" 2 "$bin/sshrpcd" -p "127.0.0.1:$PORT_a" -h "$work/hostkey" \
	-o AuthorizedKeysFile="$work/authorized_keys"
expect_fail "sshrpcd: missing authorized_keys" 2 "$bin/sshrpcd" -p 127.0.0.1:0 -h "$work/hostkey" \
	-o AuthorizedKeysFile="$work/none"
expect_fail "sshrpc: unknown option" 255 "$bin/sshrpc" -o Bogus=1 127.0.0.1 'sys:ping()'
expect_fail "sshrpc: connection refused" 255 "$bin/sshrpc" -p 1 -i "$work/id" 127.0.0.1 'sys:ping()'
ssh-keygen -q -t ed25519 -N '' -f "$work/id_stranger"
expect_fail "sshrpc: key not authorized" 255 "$bin/sshrpc" -p "$PORT_a" -i "$work/id_stranger" \
	-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no 127.0.0.1 'sys:ping()'
expect_fail "sshrpc: bad call text" 255 "$bin/sshrpc" -p "$PORT_a" 127.0.0.1 'sys:ping('

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
