// NumPy's .npz format: a zip archive of .npy arrays (numpy.savez / numpy.load), through
// libzip.
//   - Reading is bounded: npz::reader opens the archive's directory only and reads an
//     entry when asked, checking the size the directory claims for it against what the
//     caller expects before it allocates anything; entries nobody asks for are never
//     inflated. npz::read reads every entry, up to a total bound.
//   - Writing is atomic and durable: the archive is built in memory, written to a
//     temporary file of a unique name beside the target, flushed to disk, renamed over the
//     target, and the directory flushed too (docs/reference/io-npz.md says what survives
//     a crash at each point).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <span>
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

// npz::read and read_memory refuse an archive whose entries claim more than this in all
// (before inflating any), unless told another bound.
inline constexpr std::size_t default_max_total_bytes = std::size_t{1} << 30;

// The longest .npy header a reader reads (numpy writes version 1.0 headers, whose length
// field is 16 bits, for every array that is not a huge structured dtype).
inline constexpr std::size_t max_header_bytes = 12 + 65535;

namespace detail {

inline std::string errno_text(int error) { return std::error_code(error, std::generic_category()).message(); }

// The text of a libzip error code (as zip_open reports it).
inline std::string zip_code_text(int code) {
    zip_error_t e;
    zip_error_init_with_code(&e, code);
    std::string text = zip_error_strerror(&e);
    zip_error_fini(&e);
    return text;
}

struct zip_file_closer {
    void operator()(zip_file_t* file) const { zip_fclose(file); }
};
struct zip_discarder {
    void operator()(zip_t* zip) const { zip_discard(zip); }
};

}  // namespace detail

// An .npz archive opened for reading, from a file or from bytes in memory. Opening reads
// and checks the zip directory (libzip's ZIP_CHECKCONS) and no entry's data; each read
// inflates one entry, checking its size and its zip checksum.
class reader {
public:
    // Opens the file at `path`; it is read as entries are, never whole.
    explicit reader(const std::filesystem::path& path) : where_(path.string()) {
        std::error_code failed;
        const auto status = std::filesystem::status(path, failed);
        if (failed || !std::filesystem::exists(status))
            XGAN_THROW(checkpoint_error, where_, ": cannot open for reading: ",
                       failed ? failed.message() : detail::errno_text(ENOENT));
        if (std::filesystem::is_directory(status))
            XGAN_THROW(checkpoint_error, where_, ": cannot open for reading: it is a directory, not an .npz file");
        if (!std::filesystem::is_regular_file(status))
            XGAN_THROW(checkpoint_error, where_, ": cannot open for reading: not a regular file");
        if (std::filesystem::file_size(path, failed) == 0 && !failed)
            XGAN_THROW(checkpoint_error, where_, ": not a readable .npz (zip) archive: the file is empty");
        int error = 0;
        zip_t* zip = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &error);
        if (zip == nullptr) {
            if (error == ZIP_ER_OPEN || error == ZIP_ER_NOENT)
                XGAN_THROW(checkpoint_error, where_, ": cannot open for reading: ", detail::zip_code_text(error));
            XGAN_THROW(checkpoint_error, where_, ": not a readable .npz (zip) archive: ", detail::zip_code_text(error));
        }
        zip_.reset(zip);
        list_entries();
    }

    // Reads the archive held in `bytes`, which must outlive the reader; `where` names it in errors.
    reader(std::string_view bytes, std::string where) : where_(std::move(where)) {
        if (bytes.empty())
            XGAN_THROW(checkpoint_error, where_, ": not a readable .npz (zip) archive: the file is empty");
        zip_error_t error;
        zip_error_init(&error);
        zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
        zip_t* zip = source ? zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error) : nullptr;
        if (zip == nullptr) {
            const std::string text = zip_error_strerror(&error);
            zip_error_fini(&error);
            if (source) zip_source_free(source);
            XGAN_THROW(checkpoint_error, where_, ": not a readable .npz (zip) archive: ", text);
        }
        zip_error_fini(&error);
        zip_.reset(zip);
        list_entries();
    }

    const std::string& where() const { return where_; }

    // The arrays' names (without ".npy"), in name order.
    std::vector<std::string> names() const {
        std::vector<std::string> result;
        for (const auto& entry : entries_) result.push_back(entry.first);
        return result;
    }
    bool contains(const std::string& name) const { return entries_.count(name) != 0; }

    // The size of array `name`'s .npy bytes as the zip directory claims it (nothing read).
    std::uint64_t claimed_size(const std::string& name) const { return find(name).size; }

    // Reads array `name` into `out`: its dtype must be `dtype`, its shape `shape`, and
    // `out` exactly as long as its data. Its header is read first (at most max_header_bytes)
    // and checked, and the size the directory claims for it must equal that header's size
    // plus out.size(); only then is the data read, straight into `out`.
    void read_into(const std::string& name, std::string_view dtype, const std::vector<std::size_t>& shape,
                   std::span<std::byte> out) const {
        const entry& e = find(name);
        const auto file = open(name, e);
        const npy::header h = read_header(name, e, file.get());
        if (h.dtype != dtype)
            XGAN_THROW(checkpoint_error, where_, ": entry '", name, "' has dtype ", h.dtype, ", expected ", dtype);
        if (h.shape != shape)
            XGAN_THROW(checkpoint_error, where_, ": entry '", name, "' has shape ", npy::detail::shape_text(h.shape),
                       ", expected ", npy::detail::shape_text(shape));
        if (h.data_bytes != out.size() || e.size != h.size + out.size())
            XGAN_THROW(checkpoint_error, where_, ": entry '", name, "' claims ", e.size, " bytes, but a ", dtype, " ",
                       npy::detail::shape_text(shape), " array is ", h.size + out.size(), " with its header");
        read_exactly(name, file.get(), reinterpret_cast<char*>(out.data()), out.size());
        expect_end(name, file.get());
    }
    template <class T>
    void read_into(const std::string& name, const std::vector<std::size_t>& shape, std::span<T> out) const {
        read_into(name, npy::dtype_of<T>(), shape, std::as_writable_bytes(out));
    }

    // Reads array `name`, whatever its dtype and shape, if the directory claims at most
    // `max_bytes` for it. Memory grows with the bytes actually read, never past the claim.
    npy::array read(const std::string& name, std::size_t max_bytes) const {
        const entry& e = find(name);
        if (e.size > max_bytes)
            XGAN_THROW(checkpoint_error, where_, ": entry '", name, "' claims ", e.size, " bytes, more than the ",
                       max_bytes, " this reader accepts");
        const auto file = open(name, e);
        std::string bytes;
        const std::size_t size = static_cast<std::size_t>(e.size);
        for (std::size_t chunk = std::size_t{1} << 20; bytes.size() < size;) {
            const std::size_t at = bytes.size();
            bytes.resize(std::min(size, at + chunk));
            read_exactly(name, file.get(), bytes.data() + at, bytes.size() - at);
        }
        expect_end(name, file.get());
        return npy::decode(bytes, where_ + ": " + name);
    }

    // Reads every array, refusing first (before inflating any) an archive whose entries
    // claim more than `max_total_bytes` in all, or that holds an entry other than an .npy.
    archive read_all(std::size_t max_total_bytes = default_max_total_bytes) const {
        if (!others_.empty())
            XGAN_THROW(checkpoint_error, where_, ": entry '", others_.front(), "' is not a .npy array");
        std::uint64_t total = 0;
        for (const auto& [name, e] : entries_) {
            if (e.size > max_total_bytes - total)
                XGAN_THROW(checkpoint_error, where_, ": its entries claim more than the ", max_total_bytes,
                           " bytes this reader accepts in all (entry '", name, "' claims ", e.size, ")");
            total += e.size;
        }
        archive result;
        for (const auto& [name, e] : entries_) result.emplace(name, read(name, static_cast<std::size_t>(e.size)));
        return result;
    }

private:
    struct entry {
        zip_uint64_t index;
        std::uint64_t size;  // uncompressed, as the directory claims
    };

    void list_entries() {
        const zip_int64_t count = zip_get_num_entries(zip_.get(), 0);
        for (zip_int64_t i = 0; i < count; ++i) {
            zip_stat_t stat;
            zip_stat_init(&stat);
            if (zip_stat_index(zip_.get(), static_cast<zip_uint64_t>(i), 0, &stat) != 0 ||
                !(stat.valid & ZIP_STAT_NAME) || !(stat.valid & ZIP_STAT_SIZE))
                XGAN_THROW(checkpoint_error, where_, ": entry ", i, " is unreadable: ", zip_strerror(zip_.get()));
            std::string name = stat.name;
            if (name.size() < 4 || name.compare(name.size() - 4, 4, ".npy") != 0) {
                others_.push_back(std::move(name));
                continue;
            }
            name.resize(name.size() - 4);
            if (!entries_.emplace(name, entry{static_cast<zip_uint64_t>(i), stat.size}).second)
                XGAN_THROW(checkpoint_error, where_, ": entry '", name, "' appears twice");
        }
    }

    const entry& find(const std::string& name) const {
        const auto it = entries_.find(name);
        if (it == entries_.end()) XGAN_THROW(checkpoint_error, where_, ": no entry '", name, "'");
        return it->second;
    }

    std::unique_ptr<zip_file_t, detail::zip_file_closer> open(const std::string& name, const entry& e) const {
        std::unique_ptr<zip_file_t, detail::zip_file_closer> file(zip_fopen_index(zip_.get(), e.index, 0));
        if (!file) XGAN_THROW(checkpoint_error, where_, ": cannot open entry '", name, "': ", zip_strerror(zip_.get()));
        return file;
    }

    // Reads exactly `count` bytes (libzip checks the entry's CRC when its end is read).
    void read_exactly(const std::string& name, zip_file_t* file, char* out, std::size_t count) const {
        while (count > 0) {
            const zip_int64_t got = zip_fread(file, out, count);
            if (got <= 0) XGAN_THROW(checkpoint_error, where_, ": entry '", name, "' is truncated or corrupt");
            out += got;
            count -= static_cast<std::size_t>(got);
        }
    }

    // The entry must end here: one more byte, or a read error (a bad CRC), refuses it.
    void expect_end(const std::string& name, zip_file_t* file) const {
        char extra = 0;
        if (zip_fread(file, &extra, 1) != 0)
            XGAN_THROW(checkpoint_error, where_, ": entry '", name, "' is truncated or corrupt");
    }

    // Reads and parses an entry's .npy header: its first 10 bytes give the header's size,
    // which must fit in the entry's claimed size and in max_header_bytes.
    npy::header read_header(const std::string& name, const entry& e, zip_file_t* file) const {
        const std::string where = where_ + ": " + name;
        if (e.size < 10) XGAN_THROW(checkpoint_error, where, ": not a .npy array (", e.size, " bytes)");
        std::string bytes(std::min<std::uint64_t>(e.size, 12), '\0');
        read_exactly(name, file, bytes.data(), bytes.size());
        const std::size_t size = npy::header_size(bytes, where);
        if (size > max_header_bytes || size > e.size)
            XGAN_THROW(checkpoint_error, where, ": its .npy header claims ", size, " bytes, in an entry of ", e.size);
        const std::size_t at = bytes.size();
        if (size > at) {
            bytes.resize(size);
            read_exactly(name, file, bytes.data() + at, size - at);
        }
        // With a header text under 2 bytes, data was read with the preamble; such a header
        // has no 'descr' and decode_header refuses it, but say so if it ever did not.
        npy::header h = npy::decode_header(bytes, where);
        if (bytes.size() > h.size) XGAN_THROW(checkpoint_error, where, ": malformed .npy header");
        return h;
    }

    std::string where_;
    std::unique_ptr<zip_t, detail::zip_discarder> zip_;
    std::map<std::string, entry> entries_;
    std::vector<std::string> others_;  // entries that are not .npy arrays (read_all refuses them)
};

namespace detail {

// A file descriptor closed on scope exit.
struct fd_owner {
    int fd = -1;
    ~fd_owner() {
        if (fd >= 0) ::close(fd);
    }
};

// Removes temporary files that writers killed before their rename left beside `target`:
// those named TARGET.tmp-PID-XXXXXX that no live writer holds. Each writer keeps an
// exclusive flock on its temporary file from just after creating it until after its
// rename, and the kernel drops the lock when the process dies; an empty file may be one
// whose writer has not locked it yet, so it goes only if process PID is gone. Errors are
// ignored: this only frees space.
inline void remove_stale_temporaries(const std::filesystem::path& directory, const std::string& prefix) {
    std::error_code failed;
    for (std::filesystem::directory_iterator it(directory, failed), end; !failed && it != end; it.increment(failed)) {
        const std::string name = it->path().filename().string();
        if (name.size() < prefix.size() + 8 || name.compare(0, prefix.size(), prefix) != 0) continue;
        const std::size_t dash = name.size() - 7;
        if (name[dash] != '-' || name.find_first_not_of("0123456789", prefix.size()) != dash) continue;
        fd_owner file{::open(it->path().c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)};
        if (file.fd < 0 || ::flock(file.fd, LOCK_EX | LOCK_NB) != 0) continue;  // a live writer's
        struct stat held, named;
        if (::fstat(file.fd, &held) != 0 || ::lstat(it->path().c_str(), &named) != 0 || held.st_ino != named.st_ino ||
            held.st_dev != named.st_dev)
            continue;  // renamed away since, and the name reused
        if (held.st_size == 0) {
            const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
            if (pid <= 0 || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
        }
        ::unlink(it->path().c_str());
    }
}

// Creates TARGET.tmp-PID-XXXXXX (this process's id, 6 random letters or digits) beside
// `target`, exclusively, with the mode a new file gets (0666 less the umask), and locks it.
inline std::pair<int, std::filesystem::path> create_temporary(const std::filesystem::path& target) {
    static std::atomic<std::uint64_t> counter{0};
    static constexpr char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    const pid_t pid = ::getpid();
    std::uint64_t state = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
                          (static_cast<std::uint64_t>(pid) << 32) ^ (counter.fetch_add(1) * 0x9E3779B97F4A7C15ull);
    for (int attempt = 0; attempt < 100; ++attempt) {
        std::string suffix = std::to_string(pid) + "-";
        for (int i = 0; i < 6; ++i) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;  // a 64-bit LCG step
            suffix += letters[(state >> 33) % 62];
        }
        const std::filesystem::path temporary = target.string() + ".tmp-" + suffix;
        const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            ::flock(fd, LOCK_EX);  // cannot block: nobody else has the file yet
            return {fd, temporary};
        }
        if (errno != EEXIST)
            XGAN_THROW(checkpoint_error, "xgan::npz: cannot create a temporary file beside ", target.string(), ": ",
                       errno_text(errno));
    }
    XGAN_THROW(checkpoint_error, "xgan::npz: cannot create a temporary file beside ", target.string(),
               ": 100 names taken");
}

inline void write_all(int fd, const char* data, std::size_t size, const std::filesystem::path& file) {
    while (size > 0) {
        const ssize_t written = ::write(fd, data, size);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) XGAN_THROW(checkpoint_error, "xgan::npz: cannot write ", file.string(), ": ", errno_text(errno));
        data += written;
        size -= static_cast<std::size_t>(written);
    }
}

}  // namespace detail

// Collects named arrays and writes them as one .npz file (entries stored, not
// compressed, as numpy.savez does).
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
    // Adds an entry NAME.npy holding `npy_bytes` as they are (tests and fuzzers add damaged arrays).
    void add_encoded(std::string name, std::string npy_bytes) {
        entries_.emplace_back(std::move(name), std::move(npy_bytes));
    }

    // The archive's bytes, built in memory.
    std::string bytes() const {
        std::string result;
        drain(build().get(), [&](const char* data, std::size_t size) { result.append(data, size); });
        return result;
    }

    // Writes `path` atomically: the archive is built in memory, written to a new file
    // PATH.tmp-PID-XXXXXX in the same directory (locked, so that another save's cleanup leaves it
    // alone), flushed to disk (fsync), renamed over `path`, and the directory flushed. On any
    // error the temporary file is removed and `path` is left as it was. Temporary files of
    // writers that died before their rename are removed first. `before_rename`, if given,
    // runs once the temporary file is complete and flushed, before it replaces `path` (tests
    // use it to simulate a crash there).
    void save(const std::filesystem::path& path, const std::function<void()>& before_rename = {}) const {
        std::error_code failed;
        if (std::filesystem::is_directory(path, failed))
            XGAN_THROW(checkpoint_error, "xgan::npz: cannot write ", path.string(), ": it is a directory");
        const std::filesystem::path directory = path.has_parent_path() ? path.parent_path() : ".";
        const std::string name = path.filename().string();
        if (name.empty() || name == "." || name == "..")
            XGAN_THROW(checkpoint_error, "xgan::npz: cannot write ", path.string(), ": not a file name");
        const auto archive = build();  // before the temporary file exists, so a crash here leaves none
        detail::remove_stale_temporaries(directory, name + ".tmp-");

        const auto created = detail::create_temporary(path);
        const int fd = created.first;
        const std::filesystem::path& temporary = created.second;
        struct remove_on_failure {
            detail::fd_owner file;
            const std::filesystem::path& name;
            bool armed = true;
            ~remove_on_failure() {
                if (armed) ::unlink(name.c_str());  // before the close drops the lock
            }
        } guard{{fd}, temporary};

        drain(archive.get(), [&](const char* data, std::size_t size) { detail::write_all(fd, data, size, temporary); });
        if (::fsync(fd) != 0)
            XGAN_THROW(checkpoint_error, "xgan::npz: cannot flush ", temporary.string(), " to disk: ",
                       detail::errno_text(errno));
        if (before_rename) before_rename();
        if (::rename(temporary.c_str(), path.c_str()) != 0)
            XGAN_THROW(checkpoint_error, "xgan::npz: cannot replace ", path.string(), ": ", detail::errno_text(errno));
        guard.armed = false;  // the lock is held until here, past the rename

        // The rename is in the directory: flush it too, so the new file survives a power
        // loss. (File systems that cannot flush a directory say EINVAL; nothing to do then.)
        const detail::fd_owner dir{::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
        if (dir.fd < 0 || (::fsync(dir.fd) != 0 && errno != EINVAL))
            XGAN_THROW(checkpoint_error, "xgan::npz: wrote ", path.string(), " but cannot flush its directory to disk (",
                       detail::errno_text(errno), "): the new file may not survive a power loss");
    }

private:
    using source_owner = std::unique_ptr<zip_source_t, decltype(&zip_source_free)>;

    // Builds the archive in a libzip memory buffer (no temporary file of libzip's).
    source_owner build() const {
        zip_error_t error;
        zip_error_init(&error);
        zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
        zip_t* archive = buffer ? zip_open_from_source(buffer, ZIP_TRUNCATE, &error) : nullptr;
        if (archive == nullptr) {
            const std::string text = zip_error_strerror(&error);
            zip_error_fini(&error);
            if (buffer) zip_source_free(buffer);
            XGAN_THROW(checkpoint_error, "xgan::npz: cannot build an archive in memory: ", text);
        }
        zip_error_fini(&error);
        zip_source_keep(buffer);  // it outlives zip_close, which writes the archive into it
        source_owner owner(buffer, &zip_source_free);
        for (const auto& [name, bytes] : entries_) {
            zip_source_t* source = zip_source_buffer(archive, bytes.data(), bytes.size(), 0);
            const zip_int64_t index =
                source ? zip_file_add(archive, (name + ".npy").c_str(), source, ZIP_FL_ENC_UTF_8) : -1;
            if (index < 0) {
                if (source) zip_source_free(source);
                const std::string text = zip_strerror(archive);
                zip_discard(archive);
                XGAN_THROW(checkpoint_error, "xgan::npz: cannot add ", name, " to an archive: ", text);
            }
            zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0);
        }
        if (zip_close(archive) != 0) {
            const std::string text = zip_strerror(archive);
            zip_discard(archive);
            XGAN_THROW(checkpoint_error, "xgan::npz: cannot build an archive in memory: ", text);
        }
        return owner;
    }

    // Hands the bytes of a built archive to `sink`, a chunk at a time.
    static void drain(zip_source_t* archive, const std::function<void(const char*, std::size_t)>& sink) {
        if (zip_source_open(archive) != 0)
            XGAN_THROW(checkpoint_error, "xgan::npz: cannot read the archive built in memory: ",
                       zip_error_strerror(zip_source_error(archive)));
        struct closer {
            zip_source_t* source;
            ~closer() { zip_source_close(source); }
        } close_on_exit{archive};
        zip_stat_t stat;
        zip_stat_init(&stat);
        const bool sized = zip_source_stat(archive, &stat) == 0 && (stat.valid & ZIP_STAT_SIZE);
        std::vector<char> chunk(sized ? std::clamp<std::size_t>(stat.size, 1, std::size_t{1} << 20) : std::size_t{1} << 20);
        for (zip_int64_t got; (got = zip_source_read(archive, chunk.data(), chunk.size())) != 0;) {
            if (got < 0) XGAN_THROW(checkpoint_error, "xgan::npz: cannot read the archive built in memory");
            sink(chunk.data(), static_cast<std::size_t>(got));
        }
    }

    std::vector<std::pair<std::string, std::string>> entries_;
};

// Reads every array of an .npz held in memory; `where` names it in errors. Refuses
// archives whose entries claim more than `max_total_bytes` in all.
inline archive read_memory(std::string_view bytes, std::string_view where,
                           std::size_t max_total_bytes = default_max_total_bytes) {
    return reader(bytes, std::string(where)).read_all(max_total_bytes);
}

// Reads every array of an .npz file, likewise bounded.
inline archive read(const std::filesystem::path& path, std::size_t max_total_bytes = default_max_total_bytes) {
    return reader(path).read_all(max_total_bytes);
}

}  // namespace xgan::npz
