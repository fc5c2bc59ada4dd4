import Testing
import WherryKube

@Suite("Inventory ConfigMap names")
struct ClusterInventoryTests {
    @Test("a service name that is a valid ConfigMap name is used as is; others get a hash, so they never collide")
    func names() {
        #expect(ClusterInventory.configMapName(service: "web-1") == "wherry-inventory-web-1")
        let odd = ClusterInventory.configMapName(service: "Web_1")
        #expect(odd.hasPrefix("wherry-inventory-web-1-") && odd.count == "wherry-inventory-web-1-".count + 8)
        #expect(odd != ClusterInventory.configMapName(service: "web_1"))
        #expect(odd.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" })
    }
}
