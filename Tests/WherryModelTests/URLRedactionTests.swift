import Testing
import WherryModel

@Suite("URL redaction: the one place credentials leave URLs")
struct URLRedactionTests {
    @Test(
        "user information and secret parameters are hidden; everything else is kept as written",
        arguments: [
            ("https://x:ghp_abc123456@github.com/o/r.git", "https://github.com/o/r.git"),
            ("https://ghp_token_as_user@github.com/o/r", "https://github.com/o/r"),
            ("https://github.com/o/r", "https://github.com/o/r"),
            ("git@github.com:o/r.git", "git@github.com:o/r.git"),
            ("ssh://git@host:2222/o/r.git", "ssh://host:2222/o/r.git"),
            ("file:///srv/git/r.git", "file:///srv/git/r.git"),
            ("https://u:p@host", "https://host"),
            ("https://u:p@host?x=1", "https://host?x=1"),
            // An @ after the authority is not user information.
            ("https://host/path?email=a@b.c", "https://host/path?email=a@b.c"),
            ("https://host?email=a@b.c", "https://host?email=a@b.c"),
            ("https://dl.example/nokube?token=s3cr3t&arch=amd64", "https://dl.example/nokube?token=***&arch=amd64"),
            (
                "https://h/p?access_token=a&ACCESS-TOKEN=b;private%5Ftoken=c",
                "https://h/p?access_token=***&ACCESS-TOKEN=***;private%5Ftoken=***"
            ),
            (
                "https://bucket.s3.example/f?X-Amz-Credential=AK/x&X-Amz-Signature=abc&X-Amz-Date=20250101",
                "https://bucket.s3.example/f?X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Date=20250101"
            ),
            (
                "https://h/p?api_key=1&key=2&sig=3&client_secret=4&page=5",
                "https://h/p?api_key=***&key=***&sig=***&client_secret=***&page=5"
            ),
            ("https://h/cb#access_token=abc&state=x", "https://h/cb#access_token=***&state=x"),
            ("https://h/p?token=&flag", "https://h/p?token=&flag"),
            ("https://h/docs#section-2", "https://h/docs#section-2"),
            ("not a url", "not a url"),
        ])
    func redacts(url: String, shown: String) {
        #expect(URLRedaction.redact(url) == shown)
    }

    @Test("masking keeps a sign that credentials are set, for URLs that show configuration")
    func masks() {
        #expect(URLRedaction.redact("http://me:pw@proxy:3128", userInfo: .mask) == "http://***@proxy:3128")
        #expect(URLRedaction.redact("http://proxy:3128", userInfo: .mask) == "http://proxy:3128")
        #expect(URLRedaction.redact("https://u@h/p?token=t", userInfo: .mask) == "https://***@h/p?token=***")
    }

    @Test("secret parameter names, however they are spelt")
    func secretNames() {
        for name in [
            "token", "Token", "id_token", "refresh-token", "password", "X-Amz-Security-Token", "apikey", "code",
        ] {
            #expect(URLRedaction.isSecretParameter(name), "\(name)")
        }
        for name in ["ref", "page", "author", "arch", "version", "monkey"] {
            #expect(!URLRedaction.isSecretParameter(name), "\(name)")
        }
    }
}
