import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What `wherry run` claims before anything else: its state directory (one controller per directory) and its listen
/// address. Either failing is one sentence and exit 2, before the store, the cluster or the loop are touched.
enum RunStartup {
    /// Holds `<state-dir>/wherry.lock` with `flock` for the life of the process; a second `wherry run` on the same
    /// directory is refused, naming the holder's process id (written into the file).
    static func lockStateDirectory(_ directory: String) throws -> Int32 {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            Terminal.error(
                "state directory \(directory) cannot be created (\(error.localizedDescription)); pass a writable "
                    + "--state-dir")
            throw ExitStatus.usage.code
        }
        let path = directory + "/wherry.lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            Terminal.error(
                "state directory \(directory): cannot open \(path) (\(String(cString: strerror(errno)))); pass a "
                    + "writable --state-dir")
            throw ExitStatus.usage.code
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            close(descriptor)
            let who = holder.flatMap { Int32($0) }.map { "process \($0)" } ?? "another process"
            Terminal.error(
                "state directory \(directory) is in use by another wherry run (\(who)); stop it, or give this one "
                    + "its own --state-dir")
            throw ExitStatus.usage.code
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = pid.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        return descriptor
    }

    /// Checks that `host:port` can be listened on now (the server binds it a moment later): a port in use, an
    /// address that is not this host's or a name that does not resolve is one sentence naming `--listen`.
    static func checkListen(_ listen: String, host: String, port: Int) throws {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &list)
        guard resolved == 0, let first = list else {
            Terminal.error(
                "--listen \(listen): \(host) is not an address or name this host resolves; use an address of this "
                    + "host, 127.0.0.1:PORT or 0.0.0.0:PORT")
            throw ExitStatus.usage.code
        }
        defer { freeaddrinfo(list) }
        let socketDescriptor = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard socketDescriptor >= 0 else { return }
        defer { close(socketDescriptor) }
        var one: Int32 = 1
        // As the server sets it: a port left in TIME_WAIT by a stopped controller is free.
        setsockopt(socketDescriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(socketDescriptor, first.pointee.ai_addr, first.pointee.ai_addrlen) != 0 else { return }
        let reason =
            switch errno {
            case EADDRINUSE: "port \(port) is already in use on \(host) (another process listens there); pick another"
            case EADDRNOTAVAIL: "\(host) is not an address of this host; use one of its addresses or 0.0.0.0"
            case EACCES: "port \(port) needs privileges to listen on; pick a port above 1023"
            default: "cannot listen there (\(String(cString: strerror(errno))))"
            }
        Terminal.error("--listen \(listen): \(reason)")
        throw ExitStatus.usage.code
    }
}
