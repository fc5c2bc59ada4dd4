import WherryGit
import WherryModel

extension ConfigLoader {
    /// `decryption: {provider: sops, age_key_file: PATH | age_key_env: NAME}`.
    static func readDecryption(
        _ reader: FieldReader, baseDirectory: String, issues: inout [ConfigIssue]
    ) -> DecryptionConfig? {
        guard let block = reader.map("decryption", issues: &issues) else { return nil }
        block.rejectUnknown(known: ["provider", "age_key_file", "age_key_env", "age_key"], issues: &issues)
        if block.has("age_key") {
            issues.append(
                ConfigIssue(
                    .error, block.location("age_key"), "'\(block.name("age_key"))' would keep the key in the config",
                    hint: "put the key in a file and write age_key_file: PATH, or in a variable and write "
                        + "age_key_env: NAME"))
        }
        let providerText = block.string("provider", required: true, issues: &issues)
        if let providerText, DecryptionConfig.Provider(rawValue: providerText) == nil {
            let known = DecryptionConfig.Provider.allCases.map(\.rawValue)
            issues.append(
                ConfigIssue(
                    .error, block.location("provider"), "'\(providerText)' is not a decryption provider",
                    hint: Suggestion.closest(providerText, in: known).map { "did you mean '\($0)'?" }
                        ?? "use provider: sops"))
        }
        let file = block.string("age_key_file", issues: &issues)
        let variable = block.string("age_key_env", issues: &issues)
        let source: DecryptionConfig.AgeKeySource
        switch (file, variable) {
        case (let file?, nil): source = .file(absolute(file, base: baseDirectory))
        case (nil, let variable?): source = .environment(variable)
        case (_?, _?):
            issues.append(
                ConfigIssue(
                    .error, block.location("age_key_env"), "'\(block.path)' sets both age_key_file and age_key_env",
                    hint: "keep one"))
            return nil
        case (nil, nil):
            issues.append(
                ConfigIssue(
                    .error, block.map.location, "'\(block.path)' names no age key",
                    hint: "add age_key_file: PATH (a file made by age-keygen) or age_key_env: NAME"))
            return nil
        }
        return DecryptionConfig(ageKey: source, location: block.map.location)
    }

    /// `verify: {mode: head, allowed_signers_file: PATH | gpg_keys_file: PATH}` on a repository.
    static func readVerification(
        _ reader: FieldReader, baseDirectory: String, issues: inout [ConfigIssue]
    ) -> CommitVerification? {
        guard let block = reader.map("verify", issues: &issues) else { return nil }
        block.rejectUnknown(known: ["mode", "allowed_signers_file", "gpg_keys_file"], issues: &issues)
        let modeText = block.string("mode", issues: &issues) ?? "head"
        let mode = CommitVerification.Mode(rawValue: modeText)
        if mode == nil {
            let hint =
                modeText == "tag"
                ? "mode: tag checks a tracked tag, and Wherry follows branches only; use mode: head"
                : (Suggestion.closest(modeText, in: ["head"]).map { "did you mean '\($0)'?" } ?? "use mode: head")
            issues.append(
                ConfigIssue(.error, block.location("mode"), "'\(modeText)' is not a verification mode", hint: hint))
        }
        let ssh = block.string("allowed_signers_file", issues: &issues).map { absolute($0, base: baseDirectory) }
        let gpg = block.string("gpg_keys_file", issues: &issues).map { absolute($0, base: baseDirectory) }
        let trust: CommitVerification.Trust
        switch (ssh, gpg) {
        case (let file?, nil): trust = .sshAllowedSigners(file: file)
        case (nil, let file?): trust = .gpgKeys(file: file)
        case (_?, _?):
            issues.append(
                ConfigIssue(
                    .error, block.location("gpg_keys_file"),
                    "'\(block.path)' sets both allowed_signers_file and gpg_keys_file", hint: "keep one"))
            return nil
        case (nil, nil):
            issues.append(
                ConfigIssue(
                    .error, block.map.location, "'\(block.path)' names no trusted keys",
                    hint: "add allowed_signers_file: PATH (SSH signatures, git's allowed signers format) or "
                        + "gpg_keys_file: PATH (armored OpenPGP public keys)"))
            return nil
        }
        guard let mode else { return nil }
        return CommitVerification(mode: mode, trust: trust)
    }
}
