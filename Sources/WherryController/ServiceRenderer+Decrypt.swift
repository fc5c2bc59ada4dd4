import Foundation
import WherryModel
import WherryRender

extension ServiceRenderer {
    /// Decrypt: the SOPS-encrypted objects of a located service, in memory, with the key its `decryption` names,
    /// read now. Services without encrypted objects need no key and run no program; ciphertext sops cannot
    /// decrypt (values without their file's metadata) fails the service instead of reaching the cluster.
    func decrypt(
        _ objects: [KubeObject], _ located: ServiceCheckout
    ) async throws(RenderFailure)
        -> SOPSDecryptor.Result
    {
        guard objects.contains(where: SOPSDecryptor.isEncrypted) else {
            try SOPSDecryptor.rejectCiphertext(objects)
            return SOPSDecryptor.Result(objects: objects)
        }
        var key: Secret?
        if let decryption = located.decryption {
            do {
                key = try decryption.readKey(environment: environment ?? ProcessInfo.processInfo.environment)
            } catch {
                throw RenderFailure(error.issues.map { RenderIssue(location: nil, message: $0.description) })
            }
        }
        let result = try await decryptor.decrypt(objects, ageKey: key, service: located.service.name)
        // Whole-file encryption hides names: two files may turn out to be one object only now.
        try ManifestRenderer.rejectDuplicates(result.objects)
        logger.debug(
            "Decrypted SOPS objects in memory",
            metadata: [
                "wherry.service": "\(located.service.name)", "wherry.objects": "\(result.encryptedValues.count)",
            ])
        return result
    }

    /// The render digest's line for decryption: the provider and a digest of the key, never the key itself, so a
    /// new key applies the service again. Empty without decryption, so digests of other services do not change.
    func decryptionDigestLine(_ decryption: DecryptionConfig?) -> String {
        guard let decryption else { return "" }
        do {
            let key = try decryption.readKey(environment: environment ?? ProcessInfo.processInfo.environment)
            return "decryption \(decryption.provider.rawValue) key \(DecryptionConfig.keyDigest(key))\n"
        } catch {
            // The render reports it; nothing is applied with an unreadable key.
            return "decryption \(decryption.provider.rawValue) key unreadable\n"
        }
    }
}
