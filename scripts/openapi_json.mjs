// Converts docs/openapi.yaml (the OpenAPI description kasten serves as GET /openapi.json) into docs/openapi.json,
// which the build embeds (cmake/embed_openapi.cmake), so building kasten needs neither node nor a YAML parser.
// Run it after editing the YAML; the ctest test client_openapi fails while the two differ.
//
//   node scripts/openapi_json.mjs           # writes docs/openapi.json
//   node scripts/openapi_json.mjs --check   # exits 1 when docs/openapi.json is not the YAML's conversion
//
// Uses the `yaml` package of tests/clients/node_modules (scripts/install_clients.sh installs it).
import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const require = createRequire(new URL("../tests/clients/package.json", import.meta.url));
const YAML = require("yaml");

const yamlPath = fileURLToPath(new URL("../docs/openapi.yaml", import.meta.url));
const jsonPath = fileURLToPath(new URL("../docs/openapi.json", import.meta.url));

// The JSON text for the YAML document (2-space indentation, a final newline).
export function openapiJsonText() {
    const doc = YAML.parse(readFileSync(yamlPath, "utf8"), { uniqueKeys: true, strict: true });
    return JSON.stringify(doc, null, 2) + "\n";
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
    const want = openapiJsonText();
    if (process.argv.includes("--check")) {
        let have = "";
        try {
            have = readFileSync(jsonPath, "utf8");
        } catch {
            // a missing file differs
        }
        if (have !== want) {
            console.error("docs/openapi.json is not docs/openapi.yaml converted: run node scripts/openapi_json.mjs");
            process.exit(1);
        }
        console.log("docs/openapi.json matches docs/openapi.yaml");
    } else {
        writeFileSync(jsonPath, want);
        console.log(`wrote ${jsonPath}`);
    }
}
