# The in-sandbox harness of @acereason/verify-code.
#
# One harness process serves one submission. It is started inside the sandbox (as the pid-namespace
# init when namespaced), receives the program once, then one test input at a time over a framed
# channel, and runs every test in a fresh fork with its own resource limits. Expected outputs never
# enter the sandbox: the verifier compares outside.
#
# Frames: 4-byte big-endian length + UTF-8 JSON, on fds 10 (in) and 11 (out).
import os
import sys
import json
import struct
import signal
import resource
import time
import select
import io
import math

# Modules solutions commonly import, loaded once here so each forked test does not pay for them
# (cheap ones only: every submission pays for these once, at harness start).
import collections, itertools, heapq, bisect, functools, re, string, typing, operator  # noqa: F401,E401
import threading, traceback, gc  # noqa: E401
import builtins

IN_FD, OUT_FD = 10, 11
MEM_EXIT = 121
SETUP_EXIT = 122
SYNTAX_EXIT = 123
WORK = os.environ.get('ACEREASON_WORK', '/tmp')
NAMESPACED = os.getpid() == 1


LIBC = None


def set_dumpable(flag):
    if LIBC is not None:
        LIBC.prctl(4, flag, 0, 0, 0)  # PR_SET_DUMPABLE


def setup_channel():
    global LIBC
    os.dup2(0, IN_FD)
    os.dup2(1, OUT_FD)
    null = os.open('/dev/null', os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    # As init of the pid namespace, signals without a handler are not delivered from inside the
    # namespace; Python's default SIGINT handler would make us killable, so drop it.
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(s, signal.SIG_DFL)
    try:
        import ctypes
        LIBC = ctypes.CDLL(None, use_errno=True)
        # PR_SET_DUMPABLE = 4: no ptrace, no /proc/<pid>/{mem,fd,environ} for processes of our uid.
        if LIBC.prctl(4, 0, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), 'prctl')
    except Exception as e:  # the verifier decides whether this is fatal
        if os.environ.get('ACEREASON_REQUIRE_NODUMP') == '1':
            sys.stderr.write('harness: cannot make itself non-dumpable: %r\n' % (e,))
            sys.exit(3)


def read_exact(n):
    buf = bytearray()
    while len(buf) < n:
        chunk = os.read(IN_FD, n - len(buf))
        if not chunk:
            os._exit(0)
        buf += chunk
    return bytes(buf)


def recv():
    (n,) = struct.unpack('>I', read_exact(4))
    return json.loads(read_exact(n))


def send(obj):
    data = json.dumps(obj).encode('utf-8')
    data = struct.pack('>I', len(data)) + data
    view = memoryview(data)
    while view:
        k = os.write(OUT_FD, view)
        view = view[k:]


def kill_others(pid):
    """Kill every process the test started, including ones that left its process group."""
    if NAMESPACED:
        try:
            os.kill(-1, signal.SIGKILL)  # from the namespace init: everything but ourselves
        except ProcessLookupError:
            pass
    else:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


PAGE = os.sysconf('SC_PAGE_SIZE')
GUARD_PERIOD_S = 0.05


def sandbox_private_bytes():
    """Resident, non-file memory of every process in the namespace but ourselves.

    RLIMIT_AS bounds one process; this bounds the tree, so forked helpers cannot multiply it."""
    total = 0
    for name in os.listdir('/proc'):
        if not name.isdigit() or name == '1':
            continue
        try:
            with open('/proc/%s/statm' % name, 'rb') as f:
                fields = f.read().split()
            total += (int(fields[1]) - int(fields[2])) * PAGE
        except (OSError, IndexError, ValueError):
            pass
    return total


def reap_all():
    while True:
        try:
            pid, _ = os.waitpid(-1, 0)
        except ChildProcessError:
            return
        except InterruptedError:
            continue


def set_limits(lim):
    def setl(res, soft, hard=None):
        try:
            resource.setrlimit(res, (soft, soft if hard is None else hard))
        except (ValueError, OSError):
            cur = resource.getrlimit(res)
            try:
                resource.setrlimit(res, (min(soft, cur[1]) if cur[1] != resource.RLIM_INFINITY else soft, cur[1]))
            except (ValueError, OSError):
                pass
    cpu = max(1, int(math.ceil(lim['cpuS'])))
    setl(resource.RLIMIT_CPU, cpu, cpu + 1)
    setl(resource.RLIMIT_AS, lim['memBytes'])
    setl(resource.RLIMIT_NPROC, lim['nproc'])
    setl(resource.RLIMIT_NOFILE, lim['nofile'])
    setl(resource.RLIMIT_FSIZE, lim['fsizeBytes'])
    setl(resource.RLIMIT_STACK, lim['stackBytes'])
    setl(resource.RLIMIT_CORE, 0)


def write_all(fd, data):
    view = memoryview(data)
    while view:
        k = os.write(fd, view)
        view = view[k:]


def run_child(body, input_bytes, lim, want_result):
    """Fork, limit, run body() in the child; return what happened. Never raises for program faults."""
    in_fd = os.memfd_create('input', 0)
    write_all(in_fd, input_bytes)
    os.lseek(in_fd, 0, os.SEEK_SET)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    res_r, res_w = os.pipe() if want_result else (-1, -1)
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(in_fd, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            first_free = 3
            if want_result:
                os.dup2(res_w, 3)
                first_free = 4
            os.closerange(first_free, 1 << 16)
            if not NAMESPACED:
                os.setpgid(0, 0)
            os.chdir(WORK)
            set_dumpable(1)  # the test may read its own /proc entries; the harness stays closed
            set_limits(lim)
            body()
        except MemoryError:
            os._exit(MEM_EXIT)
        except BaseException:
            os._exit(SETUP_EXIT)
        os._exit(SETUP_EXIT)
    os.close(in_fd)
    os.close(out_w)
    os.close(err_w)
    if want_result:
        os.close(res_w)
    pidfd = os.pidfd_open(pid)
    poller = select.poll()
    bufs = {out_r: bytearray(), err_r: bytearray()}
    caps = {out_r: lim['outBytes'], err_r: 1 << 16}
    if want_result:
        bufs[res_r] = bytearray()
        caps[res_r] = lim['outBytes']
    for fd in bufs:
        poller.register(fd, select.POLLIN)
    poller.register(pidfd, select.POLLIN)
    deadline = t0 + lim['wallS']
    next_guard = t0 + GUARD_PERIOD_S
    killed_for = None
    status = None
    rusage = None
    total_out = 0
    open_fds = set(bufs)

    def read_some(fd):
        nonlocal total_out, killed_for
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return False
        if fd == err_r:
            bufs[fd] += chunk
            if len(bufs[fd]) > caps[fd]:
                del bufs[fd][: len(bufs[fd]) - caps[fd]]
            return True
        total_out += len(chunk)
        if total_out > lim['outBytes']:
            killed_for = killed_for or 'output_limit'
            return True
        bufs[fd] += chunk
        return True

    while status is None:
        now = time.monotonic()
        if killed_for is None and now >= deadline:
            killed_for = 'time_limit'
        if killed_for is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            kill_others(pid)
            _, status, rusage = os.wait4(pid, 0)
            break
        if NAMESPACED and now >= next_guard:
            next_guard = now + GUARD_PERIOD_S
            if sandbox_private_bytes() > lim['memBytes']:
                killed_for = 'memory_limit'
                continue
        timeout_ms = max(1, int((min(deadline, next_guard) - now) * 1000) + 1)
        for fd, ev in poller.poll(timeout_ms):
            if fd == pidfd:
                _, st, ru = os.wait4(pid, os.WNOHANG)
                if _ != 0:
                    status, rusage = st, ru
            elif fd in open_fds:
                if not read_some(fd):
                    poller.unregister(fd)
                    open_fds.discard(fd)
    wall = time.monotonic() - t0
    # Nothing the test started may live on: kill the rest, reap, then drain the pipes to EOF.
    kill_others(pid)
    reap_all()
    for fd in list(open_fds):
        os.set_blocking(fd, False)
        try:
            while read_some(fd):
                pass
        except BlockingIOError:
            pass  # only when not namespaced: an escaped process still holds the pipe
    for fd in bufs:
        os.close(fd)
    os.close(pidfd)
    cpu = rusage.ru_utime + rusage.ru_stime
    exit_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    stderr = bytes(bufs[err_r]).decode('utf-8', 'replace')
    verdict = 'ok'
    if killed_for is not None:
        verdict = killed_for
    elif sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= lim['cpuS'] * 0.9):
        verdict = 'time_limit'
    elif cpu > lim['cpuS']:
        verdict = 'time_limit'
    elif exit_code == MEM_EXIT or 'MemoryError' in stderr[-2000:] or 'std::bad_alloc' in stderr[-2000:]:
        verdict = 'memory_limit'
    elif exit_code != 0:
        verdict = 'runtime_error'
    out = {
        'verdict': verdict,
        'exitCode': exit_code,
        'signal': sig,
        'cpuMs': round(cpu * 1000, 3),
        'wallMs': round(wall * 1000, 3),
        'stderr': stderr[-2000:],
        # Only a clean run is judged: do not ship a flood back.
        'stdout': bytes(bufs[out_r]).decode('utf-8', 'replace') if verdict == 'ok' else '',
    }
    if want_result:
        out['result'] = bytes(bufs[res_r]).decode('utf-8', 'replace') if verdict == 'ok' else ''
    return out


def std_streams():
    sys.stdin = sys.__stdin__ = open(0, 'r', encoding='utf-8', errors='replace', closefd=False)
    sys.stdout = sys.__stdout__ = open(1, 'w', encoding='utf-8', closefd=False)
    sys.stderr = sys.__stderr__ = open(2, 'w', encoding='utf-8', errors='backslashreplace', closefd=False, buffering=1)
    sys.argv = ['solution.py']


def finish(code):
    try:
        threading._shutdown()  # join non-daemon threads like interpreter shutdown does
    except BaseException:
        pass
    try:
        sys.stdout.flush()
    except BaseException:
        code = code or 1
    try:
        sys.stderr.flush()
    except BaseException:
        pass
    os._exit(code)


def exit_code_of(e):
    if e.code is None:
        return 0
    if isinstance(e.code, int):
        return e.code & 0xFF
    sys.stderr.write(str(e.code) + '\n')
    return 1


def py_test_body(code, mode, fn_name, input_text):
    def body():
        std_streams()
        try:
            co = compile(code, 'solution.py', 'exec', dont_inherit=True)
        except MemoryError:
            raise
        except BaseException:
            traceback.print_exc(limit=0)
            sys.stderr.flush()
            os._exit(SYNTAX_EXIT)
        g = {'__name__': '__main__' if mode == 'stdin' else 'solution', '__builtins__': builtins}
        try:
            exec(co, g)
            if mode == 'call':
                args = json.loads(input_text)
                sol = g.get('Solution')
                if isinstance(sol, type) and hasattr(sol, fn_name):
                    fn = getattr(sol(), fn_name)
                elif callable(g.get(fn_name)):
                    fn = g[fn_name]
                else:
                    sys.stderr.write('function %r not found\n' % (fn_name,))
                    finish(1)
                value = fn(*args)
                # Serialised here, compared outside: an object with a lying __eq__ gains nothing.
                data = json.dumps(value, allow_nan=False).encode('utf-8')
                write_all(3, data)
        except SystemExit as e:
            finish(exit_code_of(e))
        except MemoryError:
            try:
                sys.stderr.write('MemoryError\n')
                sys.stderr.flush()
            except BaseException:
                pass
            os._exit(MEM_EXIT)
        except BaseException:
            try:
                traceback.print_exc()
            except BaseException:
                pass
            finish(1)
        finish(0)
    return body


def exec_body(path, args):
    def body():
        for s in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT):
            signal.signal(s, signal.SIG_DFL)
        os.execve(path, [path] + args, dict(os.environ))
    return body


def main():
    setup_channel()
    init = recv()
    lang = init['language']
    mode = init['mode']
    fn_name = init.get('fnName')
    lim = init['limits']
    comp = init['compile']
    code = init['code']
    del init
    if lang == 'python':
        pass  # compiled in each test's fork: a syntax error is reported from the first test
    elif lang == 'cpp':
        src = os.path.join(WORK, 'solution.cpp')
        with open(src, 'w', encoding='utf-8') as f:
            f.write(code)
        binary = os.path.join(WORK, 'solution')
        r = run_child(exec_body('/usr/bin/g++', ['-std=c++17', '-O2', '-pipe', '-o', binary, src]), b'', comp, False)
        if r['verdict'] != 'ok':
            send({'compileError': (r['stderr'] or '') + ('' if r['verdict'] == 'runtime_error' else ' [' + r['verdict'] + ']'), 'verdict': r['verdict']})
            return
    else:
        send({'compileError': 'unsupported language %r' % (lang,), 'verdict': 'runtime_error'})
        return
    # Objects that exist now are never collected: children do not touch (and copy) their pages.
    gc.collect()
    gc.freeze()
    send({'ready': True})
    while True:
        msg = recv()
        if msg.get('op') != 'run':
            return
        data = msg['input'].encode('utf-8')
        if lang == 'python':
            body = py_test_body(code, mode, fn_name, msg['input'])
            r = run_child(body, b'' if mode == 'call' else data, lim, mode == 'call')
            if r['exitCode'] == SYNTAX_EXIT and r['verdict'] == 'runtime_error':
                send({'compileError': r['stderr']})
                return
        else:
            r = run_child(exec_body(os.path.join(WORK, 'solution'), []), data, lim, False)
        if mode == 'call':
            r.pop('stdout', None)
        send(r)

if __name__ == '__main__':
    main()
