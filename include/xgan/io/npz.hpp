// NumPy's .npz format: a zip archive of .npy arrays (numpy.savez / numpy.load), through
// libzip. Writing is atomic: the archive goes to a temporary file beside the target,
// which is renamed over it only once complete.
#pragma once

#include <zip.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <xgan/config.hpp>
#include <xgan/io/npy.hpp>

namespace xgan::npz {

// Arrays by name (without the ".npy" suffix), in name order.
using archive = std::map<std::string, npy::array>;

// Entries larger than this are refused when reading (a corrupt size field must not
// make xgan allocate without bound).
inline constexpr std::size_t max_entry_bytes = std::size_t{1} << 32;

// Collects named arrays and writes them as one .npz file.
class writer {
public:
    template <class T>
    void add(std::string name, const std::vector<std::size_t>& shape, const T* data, std::size_t count) {
        add_encoded(std::move(name), npy::encode(npy::dtype_of<T>(), shape, data, count * sizeof(T)));
    }
    void add_string(std::string name, std::string_view text) {
        add_encoded(std::move(name), npy::encode("|S" + std::to_string(std::max<std::size_t>(text.size(), 1)), {},
                                                 text.empty() ? " " : text.data(), std::max<std::size_t>(text.size(), 1)));
    }
    void add_encoded(std::string name, std::string npy_bytes) {
        entries_.emplace_back(std::move(name), std::move(npy_bytes));
    }

    // Writes `path` atomically. `before_rename`, if given, runs once the temporary file is
    // complete and before it replaces `path` (tests use it to simulate a crash there).
    void save(const std::filesystem::path& path, const std::function<void()>& before_rename = {}) const {
        const std::filesystem::path temporary = path.string() + ".tmp";
        struct remove_on_failure {
            const std::filesystem::path& file;
            bool armed = true;
            ~remove_on_failure() {
                if (armed) {
                    std::error_code ignored;
                    std::filesystem::remove(file, ignored);
                }
            }
        } guard{temporary};

        int error = 0;
        zip_t* archive = zip_open(temporary.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
        if (archive == nullptr) {
            zip_error_t e;
            zip_error_init_with_code(&e, error);
            const std::string text = zip_error_strerror(&e);
            zip_error_fini(&e);
            XGAN_THROW(checkpoint_error, "xgan::npz: cannot create ", temporary.string(), ": ", text);
        }
        for (const auto& [name, bytes] : entries_) {
            zip_source_t* source = zip_source_buffer(archive, bytes.data(), bytes.size(), 0);
            const zip_int64_t index =
                source ? zip_file_add(archive, (name + ".npy").c_str(), source, ZIP_FL_ENC_UTF_8) : -1;
            if (index < 0) {
                if (source) zip_source_free(source);
                const std::string text = zip_strerror(archive);
                zip_discard(archive);
                XGAN_THROW(checkpoint_error, "xgan::npz: cannot add ", name, " to ", temporary.string(), ": ", text);
            }
            zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0);
        }
        if (zip_close(archive) != 0) {
            const std::string text = zip_strerror(archive);
            zip_discard(archive);
            XGAN_THROW(checkpoint_error, "xgan::npz: cannot write ", temporary.string(), ": ", text);
        }
        if (before_rename) before_rename();
        std::error_code failed;
        std::filesystem::rename(temporary, path, failed);
        if (failed)
            XGAN_THROW(checkpoint_error, "xgan::npz: cannot replace ", path.string(), ": ", failed.message());
        guard.armed = false;
    }

private:
    std::vector<std::pair<std::string, std::string>> entries_;
};

// Reads every array of an .npz held in memory; `where` names it in errors.
inline archive read_memory(std::string_view bytes, std::string_view where) {
    if (bytes.empty()) XGAN_THROW(checkpoint_error, where, ": not a readable .npz (zip) archive: the file is empty");
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
    zip_t* zip = source ? zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error) : nullptr;
    if (zip == nullptr) {
        const std::string text = zip_error_strerror(&error);
        zip_error_fini(&error);
        if (source) zip_source_free(source);
        XGAN_THROW(checkpoint_error, where, ": not a readable .npz (zip) archive: ", text);
    }
    zip_error_fini(&error);
    std::unique_ptr<zip_t, decltype(&zip_discard)> owner(zip, &zip_discard);

    archive result;
    const zip_int64_t entries = zip_get_num_entries(zip, 0);
    for (zip_int64_t i = 0; i < entries; ++i) {
        zip_stat_t stat;
        zip_stat_init(&stat);
        if (zip_stat_index(zip, static_cast<zip_uint64_t>(i), 0, &stat) != 0 || !(stat.valid & ZIP_STAT_NAME) ||
            !(stat.valid & ZIP_STAT_SIZE))
            XGAN_THROW(checkpoint_error, where, ": entry ", i, " is unreadable: ", zip_strerror(zip));
        std::string name = stat.name;
        if (name.size() < 4 || name.substr(name.size() - 4) != ".npy")
            XGAN_THROW(checkpoint_error, where, ": entry '", name, "' is not a .npy array");
        name.resize(name.size() - 4);
        if (stat.size > max_entry_bytes)
            XGAN_THROW(checkpoint_error, where, ": entry '", name, "' claims ", stat.size, " bytes");
        std::unique_ptr<zip_file_t, decltype(&zip_fclose)> file(zip_fopen_index(zip, static_cast<zip_uint64_t>(i), 0),
                                                                &zip_fclose);
        if (!file) XGAN_THROW(checkpoint_error, where, ": cannot open entry '", name, "': ", zip_strerror(zip));
        std::string data(static_cast<std::size_t>(stat.size), '\0');
        const zip_int64_t got = data.empty() ? 0 : zip_fread(file.get(), data.data(), data.size());
        char extra = 0;
        if (got != static_cast<zip_int64_t>(data.size()) || zip_fread(file.get(), &extra, 1) != 0)
            XGAN_THROW(checkpoint_error, where, ": entry '", name, "' is truncated or corrupt");
        if (result.count(name)) XGAN_THROW(checkpoint_error, where, ": entry '", name, "' appears twice");
        result.emplace(name, npy::decode(data, std::string(where) + ": " + name));
    }
    return result;
}

// Reads every array of an .npz file.
inline archive read(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) XGAN_THROW(checkpoint_error, path.string(), ": cannot open for reading");
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) XGAN_THROW(checkpoint_error, path.string(), ": read error");
    return read_memory(bytes, path.string());
}

}  // namespace xgan::npz
