import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The directory this server keeps its signing keys in, so that a restart publishes the same keys: one
/// `<kid>.json` per key (`KeyFile`), mode 0600, in a directory of mode 0700.
///
/// One server owns a directory: it holds an exclusive lock on `<dir>/.lock` while it runs, and a second server
/// given the same directory refuses to start. A directory or key file that others may read is refused, as ssh
/// refuses such a private key.
final class KeyDirectory: Sendable {
    let path: String
    private let lock: Int32

    /// Opens (or creates, mode 0700) the directory at `path` and locks it.
    init(path: String) throws(KeyDirectoryError) {
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw KeyDirectoryError("cannot create the key directory \(path): \(Self.lastError())")
        }
        var status = stat()
        guard stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR else {
            throw KeyDirectoryError("\(path) is not a directory")
        }
        guard status.st_mode & 0o077 == 0 else {
            throw KeyDirectoryError("the key directory \(path) is open to other users: chmod 700 it")
        }
        let lock = open(path + "/.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else {
            throw KeyDirectoryError("cannot open \(path)/.lock: \(Self.lastError())")
        }
        guard flock(lock, LOCK_EX | LOCK_NB) == 0 else {
            close(lock)
            throw KeyDirectoryError("the key directory \(path) is in use by another auth server")
        }
        self.path = path
        self.lock = lock
    }

    deinit {
        // Unlock before closing: a child forked meanwhile shares the lock until it execs, and closing only our
        // descriptor would leave the directory locked for that long.
        flock(self.lock, LOCK_UN)
        close(self.lock)
    }

    /// Every key file in the directory.
    func load() throws(KeyDirectoryError) -> [KeyFile] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: self.path)
        } catch {
            throw KeyDirectoryError("cannot list \(self.path): \(error.localizedDescription)")
        }
        var files: [KeyFile] = []
        for name in names.sorted() where name.hasSuffix(".json") && !name.hasPrefix(".") {
            let file = self.path + "/" + name
            var status = stat()
            guard stat(file, &status) == 0 else {
                throw KeyDirectoryError("cannot stat \(file): \(Self.lastError())")
            }
            guard status.st_mode & 0o077 == 0 else {
                throw KeyDirectoryError("the key file \(file) is open to other users: chmod 600 it")
            }
            guard let data = FileManager.default.contents(atPath: file),
                let key = try? JSONDecoder().decode(KeyFile.self, from: data), name == key.kid + ".json"
            else {
                throw KeyDirectoryError("\(file) is not a key file of this server")
            }
            files.append(key)
        }
        return files
    }

    /// Writes `key` to `<kid>.json`: to a temporary file created with mode 0600, flushed, then renamed, so that
    /// a crash never leaves half a key.
    func write(_ key: KeyFile) throws(KeyDirectoryError) {
        guard Self.isFileName(key.kid) else {
            throw KeyDirectoryError("kid \(key.kid) cannot name a file")
        }
        let final = self.path + "/" + key.kid + ".json"
        let temporary = self.path + "/." + key.kid + ".json.tmp"
        unlink(temporary)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw KeyDirectoryError("cannot create \(temporary): \(Self.lastError())")
        }
        let bytes = encodeJSON(key)
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        let flushed = fsync(descriptor) == 0
        close(descriptor)
        guard written == bytes.count, flushed, rename(temporary, final) == 0 else {
            let reason = Self.lastError()
            unlink(temporary)
            throw KeyDirectoryError("cannot write \(final): \(reason)")
        }
        self.syncDirectory()
    }

    /// Deletes the key file of `kid`.
    func remove(kid: String) throws(KeyDirectoryError) {
        guard Self.isFileName(kid) else {
            return
        }
        let file = self.path + "/" + kid + ".json"
        guard unlink(file) == 0 || errno == ENOENT else {
            throw KeyDirectoryError("cannot delete \(file): \(Self.lastError())")
        }
        self.syncDirectory()
    }

    /// Makes a rename or a delete durable.
    private func syncDirectory() {
        let descriptor = open(self.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
    }

    /// A kid made of base64url characters only, as thumbprints are: never a path.
    private static func isFileName(_ kid: String) -> Bool {
        !kid.isEmpty && kid.utf8.count <= 128
            && kid.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                    true
                default:
                    false
                }
            }
    }

    private static func lastError() -> String {
        String(cString: strerror(errno))
    }
}
