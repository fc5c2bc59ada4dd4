import WherryExec

extension GitCLISource {
    /// Commits whose directory listing is kept: the one being applied and the few before it.
    static let treeListingsToKeep = 4

    /// Every directory of `commit` with its tree id, from one `git ls-tree -r -d` shared by all callers; `nil` when
    /// the listing cannot be made (the caller then asks git about its one path, and reports that answer's error).
    func treeListing(_ repository: GitRepository, bare: String, commit: String) async -> [String: String]? {
        let key = bare + "\u{0}" + commit
        let task: Task<[String: String], any Error>
        if let known = treeListings.first(where: { $0.key == key })?.listing {
            task = known
        } else {
            task = Task { try await self.listTrees(repository, bare: bare, commit: commit) }
            treeListings.append((key, task))
            if treeListings.count > Self.treeListingsToKeep { treeListings.removeFirst() }
        }
        do {
            return try await task.value
        } catch {
            // Not kept: a later call tries again (the commit may not have been fetched yet).
            treeListings.removeAll { $0.key == key }
            return nil
        }
    }

    /// `<mode> SP tree SP <id> TAB <path> NUL` per directory, read into path → id.
    private func listTrees(_ repository: GitRepository, bare: String, commit: String) async throws -> [String: String] {
        let result = try await runGit(["--git-dir", bare, "ls-tree", "-r", "-d", "-z", commit], repository, "ls-tree")
        guard result.succeeded else {
            throw GitError(kind: .failed, operation: "ls-tree", remote: repository.displayURL, message: "no listing")
        }
        var trees: [String: String] = [:]
        for record in result.stdout.split(separator: 0) {
            guard let tab = record.firstIndex(of: 9) else { continue }
            let fields = record[..<tab].split(separator: 32)
            guard fields.count == 3, fields[1].elementsEqual("tree".utf8) else { continue }
            trees[String(decoding: record[record.index(after: tab)...], as: UTF8.self)] = String(
                decoding: fields[2], as: UTF8.self)
        }
        return trees
    }
}
