#!/usr/bin/python3
"""pyzmq test client for protocol = zmtp (Debian's python3-zmq, libzmq 4.3).

    zmq_client.py [-t TYPE] [-T MS] [-n N] ENDPOINT FRAME... [-- FRAME...]...
        The same calls and output as tests/tools/zmqclient.c: one line per
        reply, its frames as [bytes] with \\xNN escapes for anything but
        printable ASCII (and the backslash); -n N repeats the list N times,
        each round's replies equal to the first's, then "N rounds".
    zmq_client.py --big SIZE ENDPOINT
        echo with one SIZE-byte argument (bytes that vary with their offset):
        prints "echo SIZE ok" when the reply is ["OK", the argument].
    zmq_client.py --heartbeat MS ENDPOINT
        A DEALER with ZMQ_HEARTBEAT_IVL 20 ms and ZMQ_HEARTBEAT_TIMEOUT
        MS/4: libzmq PINGs evd and drops the connection if no PONG (nor other
        traffic) comes in time.  Calls ping, stays idle MS, calls ping again;
        prints the replies and "reconnects N" (DISCONNECTED events seen).
    zmq_client.py --parallel N ENDPOINT FRAME...
        N DEALERs, each first answered once (ping: its connection is up),
        then all send the request at once; prints the first reply, then
        "N replies in S s" (from the sends to the last reply).
    zmq_client.py --raw HEX [--expect N] [-T MS] ENDPOINT
        No ZeroMQ: a TCP connection sends the bytes and reads what comes
        back until the server closes (or N bytes came, or -T ms passed);
        prints it in hex on one line, then EOF (the server closed) or OPEN.
    zmq_client.py --serve
        A libzmq ROUTER on tcp://127.0.0.1 (any port, printed first) that
        answers ping and echo as evd does (OK frames; ERR unknown-method
        otherwise), until killed: a server whose greeting comes in pieces,
        for evbench's tests.
    zmq_client.py -w [-t TYPE] [--plain U:P | --curve] [-T MS] ENDPOINT
        Prints the socket's monitor events until DISCONNECTED (exit 0) or
        -T ms (exit 1), as zmqclient -w does; the socket never reconnects.

Exit status: 0 done, 1 a reply missing after -T ms (default 5000) or wrong,
2 usage.
"""
import argparse
import socket as sock
import sys
import time

import zmq
from zmq.utils.monitor import recv_monitor_message

TYPES = {"dealer": zmq.DEALER, "req": zmq.REQ, "router": zmq.ROUTER,
         "rep": zmq.REP, "pub": zmq.PUB, "sub": zmq.SUB, "xpub": zmq.XPUB,
         "xsub": zmq.XSUB, "push": zmq.PUSH, "pull": zmq.PULL,
         "pair": zmq.PAIR}
EVENTS = {zmq.EVENT_CONNECTED: "CONNECTED",
          zmq.EVENT_CONNECT_DELAYED: "CONNECT_DELAYED",
          zmq.EVENT_CONNECT_RETRIED: "CONNECT_RETRIED",
          zmq.EVENT_CLOSED: "CLOSED",
          zmq.EVENT_DISCONNECTED: "DISCONNECTED",
          zmq.EVENT_HANDSHAKE_SUCCEEDED: "HANDSHAKE_SUCCEEDED",
          zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL: "HANDSHAKE_FAILED_NO_DETAIL",
          zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL: "HANDSHAKE_FAILED_PROTOCOL",
          zmq.EVENT_HANDSHAKE_FAILED_AUTH: "HANDSHAKE_FAILED_AUTH"}


def show(frames):
    out = []
    for f in frames:
        s = "".join(chr(c) if 0x20 <= c < 0x7f and c != 0x5c else "\\x%02x" % c
                    for c in f)
        out.append("[" + s + "]")
    return " ".join(out)


def socket(ctx, kind, ms):
    s = ctx.socket(TYPES[kind])
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, ms)
    s.setsockopt(zmq.SNDTIMEO, ms)
    if kind == "router":
        s.setsockopt(zmq.CONNECT_ROUTING_ID, b"evd")
        s.setsockopt(zmq.ROUTER_MANDATORY, 1)
    return s


def call(s, kind, frames, ms):
    """Sends one request, returns its reply (the router's address left
    out)."""
    if kind == "router":
        deadline = time.monotonic() + ms / 1000
        while True:  # libzmq knows the peer once the handshake is done
            try:
                s.send(b"evd", zmq.SNDMORE)
                break
            except zmq.error.ZMQError as e:
                if e.errno != zmq.EHOSTUNREACH or time.monotonic() > deadline:
                    raise
                time.sleep(0.001)
    s.send_multipart(frames)
    reply = s.recv_multipart()
    return reply[1:] if kind == "router" else reply


def run_calls(args, ctx):
    groups, cur = [], []
    for w in args.frames:
        if w == "--":
            groups.append(cur)
            cur = []
        else:
            cur.append(w.encode())
    groups.append(cur)
    if any(not g for g in groups) or args.type not in ("dealer", "req", "router"):
        return 2
    s = socket(ctx, args.type, args.T)
    s.connect(args.endpoint)
    first = []
    for r in range(args.n):
        for k, g in enumerate(groups):
            try:
                line = show(call(s, args.type, g, args.T))
            except zmq.error.ZMQError as e:
                print("zmq_client: round %d, request %d: %s" % (r + 1, k + 1, e),
                      file=sys.stderr)
                return 1
            if r == 0:
                first.append(line)
                print(line)
            elif line != first[k]:
                print("zmq_client: round %d, request %d: %s differs from %s"
                      % (r + 1, k + 1, line, first[k]), file=sys.stderr)
                return 1
    if args.n > 1:
        print("%d rounds" % args.n)
    return 0


def run_parallel(args, ctx):
    socks = [socket(ctx, "dealer", args.T) for _ in range(args.parallel)]
    for s in socks:
        s.connect(args.endpoint)
    for s in socks:
        call(s, "dealer", [b"ping"], args.T)
    frames = [w.encode() for w in args.frames]
    t0 = time.monotonic()
    for s in socks:
        s.send_multipart(frames)
    replies = [s.recv_multipart() for s in socks]
    took = time.monotonic() - t0
    if any(r != replies[0] for r in replies):
        print("zmq_client: replies differ", file=sys.stderr)
        return 1
    print(show(replies[0]))
    print("%d replies in %.3f s" % (len(replies), took))
    return 0


def run_big(args, ctx):
    s = socket(ctx, "dealer", args.T)
    s.connect(args.endpoint)
    arg = bytes((i * 7 + i // 251) & 0xff for i in range(args.big))
    try:
        reply = call(s, "dealer", [b"echo", arg], args.T)
    except zmq.error.ZMQError as e:
        print("zmq_client: echo %d: %s" % (args.big, e), file=sys.stderr)
        return 1
    if reply != [b"OK", arg]:
        print("zmq_client: echo %d: a reply of %d frames, sizes %s" %
              (args.big, len(reply), [len(f) for f in reply]), file=sys.stderr)
        return 1
    print("echo %d ok" % args.big)
    return 0


def run_serve():
    ctx = zmq.Context()
    s = ctx.socket(zmq.ROUTER)
    s.setsockopt(zmq.LINGER, 0)
    s.bind("tcp://127.0.0.1:*")
    print(s.getsockopt(zmq.LAST_ENDPOINT).decode().rsplit(":", 1)[1],
          flush=True)
    while True:
        m = s.recv_multipart()
        head, rest = m[:1], m[1:]
        if rest and rest[0] == b"":
            head, rest = m[:2], m[2:]
        if rest and rest[0] == b"echo":
            s.send_multipart(head + [b"OK"] + rest[1:])
        elif rest == [b"ping"]:
            s.send_multipart(head + [b"OK"])
        else:
            s.send_multipart(head + [b"ERR", b"unknown-method", b"-"])


def run_raw(args):
    host, port = args.endpoint.replace("tcp://", "").rsplit(":", 1)
    c = sock.create_connection((host, int(port)), timeout=args.T / 1000)
    c.sendall(bytes.fromhex(args.raw))
    got, state = b"", "OPEN"
    deadline = time.monotonic() + args.T / 1000
    while args.expect is None or len(got) < args.expect:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        c.settimeout(left)
        try:
            data = c.recv(65536)
        except sock.timeout:
            break
        except ConnectionResetError:
            state = "RESET"
            break
        if not data:
            state = "EOF"
            break
        got += data
    c.close()
    print(got.hex())
    print(state)
    return 0


def drain_events(mon):
    names = []
    while mon.poll(0):
        names.append(EVENTS.get(recv_monitor_message(mon)["event"], "?"))
    return names


def run_heartbeat(args, ctx):
    s = socket(ctx, "dealer", args.T)
    s.setsockopt(zmq.HEARTBEAT_IVL, 20)
    s.setsockopt(zmq.HEARTBEAT_TIMEOUT, max(args.heartbeat // 4, 40))
    mon = s.get_monitor_socket()
    s.connect(args.endpoint)
    print(show(call(s, "dealer", [b"ping"], args.T)))
    time.sleep(args.heartbeat / 1000)
    print(show(call(s, "dealer", [b"ping"], args.T)))
    print("reconnects %d" % drain_events(mon).count("DISCONNECTED"))
    return 0


def run_watch(args, ctx):
    s = ctx.socket(TYPES[args.type])
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RECONNECT_IVL, -1)
    if args.plain:
        user, _, password = args.plain.partition(":")
        s.plain_username = user.encode()
        s.plain_password = password.encode()
    if args.curve:
        server_public, _ = zmq.curve_keypair()
        public, secret = zmq.curve_keypair()
        s.curve_serverkey = server_public
        s.curve_publickey = public
        s.curve_secretkey = secret
    mon = s.get_monitor_socket()
    s.connect(args.endpoint)
    deadline = time.monotonic() + args.T / 1000
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not mon.poll(int(left * 1000) + 1):
            return 1
        name = EVENTS.get(recv_monitor_message(mon)["event"])
        if name:
            print(name, flush=True)
        if name == "DISCONNECTED":
            return 0


def main():
    p = argparse.ArgumentParser(add_help=True)
    p.add_argument("-t", dest="type", default="dealer", choices=sorted(TYPES))
    p.add_argument("-T", type=int, default=None)
    p.add_argument("-n", type=int, default=1)
    p.add_argument("-w", dest="watch", action="store_true")
    p.add_argument("--plain")
    p.add_argument("--curve", action="store_true")
    p.add_argument("--big", type=int)
    p.add_argument("--heartbeat", type=int)
    p.add_argument("--parallel", type=int)
    p.add_argument("--raw")
    p.add_argument("--expect", type=int)
    p.add_argument("--serve", action="store_true")
    p.add_argument("endpoint", nargs="?" if "--serve" in sys.argv else None)
    p.add_argument("frames", nargs=argparse.REMAINDER)
    args = p.parse_args()
    if args.T is None:
        args.T = 2000 if args.watch else 5000
    if args.n < 1:
        return 2
    if args.serve:
        return run_serve()
    if args.raw is not None:
        return run_raw(args)
    ctx = zmq.Context()
    try:
        if args.watch:
            return run_watch(args, ctx)
        if args.big is not None:
            return run_big(args, ctx)
        if args.heartbeat is not None:
            return run_heartbeat(args, ctx)
        if args.parallel is not None:
            return run_parallel(args, ctx) if args.frames else 2
        if not args.frames:
            return 2
        return run_calls(args, ctx)
    finally:
        ctx.destroy(linger=0)


if __name__ == "__main__":
    sys.exit(main())
