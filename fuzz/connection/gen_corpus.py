#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_conn.c: message sequences a real peer
sends once three session channels are open (peer ids 100..102, our ids
0..2), plus a few that break the rules. Run from this folder:
    python3 gen_corpus.py
Format: byte 0 options, bytes 1..4 seed, then [u16 length][message]...
The openssh_* seeds beside them are what OpenSSH's ssh sent our server in
tests/connection/test_openssh.c, recorded with SSHRPC_CONN_RECORD=DIR
(messages under 4 KiB, the first 400 per connection)."""
import os
import struct

def u32(v): return struct.pack(">I", v)
def s(b):
    if isinstance(b, str): b = b.encode()
    return u32(len(b)) + b
def boolean(v): return b"\x01" if v else b"\x00"

GLOBAL, RSUCC, RFAIL = 80, 81, 82
OPEN, CONF, OFAIL, ADJ, DATA, EXT, EOF, CLOSE, REQ, SUCC, FAIL = range(90, 101)

def rec(*msgs):
    out = b""
    for m in msgs:
        out += struct.pack(">H", len(m)) + m
    return out

def data(ch, b): return bytes([DATA]) + u32(ch) + s(b)
def ext(ch, b): return bytes([EXT]) + u32(ch) + u32(1) + s(b)
def req(ch, name, want, extra=b""): return bytes([REQ]) + u32(ch) + s(name) + boolean(want) + extra
def one(t, ch): return bytes([t]) + u32(ch)
def adj(ch, n): return bytes([ADJ]) + u32(ch) + u32(n)
def glob(name, want, extra=b""): return bytes([GLOBAL]) + s(name) + boolean(want) + extra

SERVER, CLIENT = 1, 0
seeds = {
    # server role: what an OpenSSH client sends
    "srv_exec": (SERVER, rec(req(0, "env", False, s("LANG") + s("C")),
                             req(0, "exec", True, s("sys:ping().")),
                             data(0, b"hello" * 20), adj(0, 100000), one(EOF, 0), one(CLOSE, 0))),
    "srv_pty_shell": (SERVER, rec(req(1, "pty-req", True, s("xterm") + u32(80) + u32(24) + u32(0) + u32(0) + s(b"\x35\x00\x00\x00\x01\x00")),
                                  req(1, "shell", True), req(1, "window-change", False, u32(100) + u32(40) + u32(0) + u32(0)),
                                  req(1, "signal", False, s("INT")), data(1, b"x" * 3000), one(EOF, 1))),
    "srv_subsystem": (SERVER, rec(req(2, "subsystem", True, s("sshrpc")), data(2, b"\x00\x00\x00\x05\x83\x64\x00\x01a"),
                                  req(2, "eow@openssh.com", False), one(CLOSE, 2))),
    "srv_new_channels": (SERVER | 32, rec(bytes([OPEN]) + s("session") + u32(7) + u32(1000) + u32(100),
                                          bytes([OPEN]) + s("direct-tcpip") + u32(8) + u32(5000) + u32(500) + s("127.0.0.1") + u32(80) + s("::1") + u32(4000),
                                          bytes([OPEN]) + s("x11") + u32(9) + u32(1000) + u32(100) + s("1.2.3.4") + u32(6000),
                                          req(3, "exec", True, s("cat")), data(3, b"abc"), one(CLOSE, 3))),
    "srv_globals": (SERVER | 64, rec(glob("keepalive@openssh.com", True), glob("tcpip-forward", True, s("0.0.0.0") + u32(0)),
                                     glob("cancel-tcpip-forward", True, s("0.0.0.0") + u32(8080)),
                                     glob("no-more-sessions@openssh.com", False),
                                     bytes([OPEN]) + s("session") + u32(7) + u32(1000) + u32(100))),
    "srv_keepalive_chan": (SERVER | 128, rec(req(0, "keepalive@openssh.com", True), req(0, "nosuch", True), b"", b"",
                                             req(1, "exec", True, s("x")), b"", b"")),
    "srv_small_window": (SERVER | 2 | 4 | 8, rec(data(0, b"a" * 100), data(0, b"b" * 100), data(0, b"c" * 101),
                                                 adj(0, 0xffffffff), ext(1, b"e" * 50))),
    "srv_bad_seq": (SERVER, rec(one(EOF, 0), data(0, b"late"), one(CLOSE, 0), one(CLOSE, 0))),
    "srv_adjust_overflow": (SERVER, rec(adj(0, 0xffffffff - 65536), adj(0, 1))),
    # client role: what an OpenSSH server sends
    "cli_exec_reply": (CLIENT, rec(one(SUCC, 0), data(0, b"\x83\x68\x02\x64\x00\x02ok\x64\x00\x04pong"),
                                   ext(0, b"warning\n"), req(0, "exit-status", False, u32(0)), one(EOF, 0), one(CLOSE, 0))),
    "cli_exit_signal": (CLIENT, rec(one(FAIL, 1), one(SUCC, 2), req(1, "exit-signal", False, s("KILL") + boolean(True) + s("killed") + s("")),
                                    one(CLOSE, 1), adj(2, 5000), req(2, "eow@openssh.com", False), one(EOF, 2))),
    "cli_forwarded": (CLIENT | 32, rec(bytes([OPEN]) + s("forwarded-tcpip") + u32(50) + u32(2000) + u32(200) + s("0.0.0.0") + u32(80) + s("1.1.1.1") + u32(9),
                                       bytes([OPEN]) + s("session") + u32(51) + u32(2000) + u32(200),
                                       glob("hostkeys-00@openssh.com", False, s(b"\x00" * 20)), bytes([RFAIL]))),
    "cli_open_more": (CLIENT, rec(b"", bytes([CONF]) + u32(3) + u32(200) + u32(1000) + u32(100),
                                  bytes([OFAIL]) + u32(4) + u32(2) + s("refused") + s(""),
                                  bytes([CONF]) + u32(9) + u32(1) + u32(1) + u32(1))),
    "cli_keepalive": (CLIENT | 128, rec(b"", b"", b"", bytes([RSUCC]), bytes([RFAIL]), b"", b"", b"", b"")),
    "cli_tiny_peer_packet": (CLIENT | 16, rec(one(SUCC, 0), adj(0, 100), b"", b"", b"", data(0, b"z" * 10), one(EOF, 0))),
}

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "corpus_conn")
os.makedirs(out, exist_ok=True)
for i, (name, (opt, body)) in enumerate(sorted(seeds.items())):
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([opt]) + struct.pack(">I", 0x1234567 * (i + 1) & 0xffffffff) + body)
print(len(seeds), "seeds in", out)
