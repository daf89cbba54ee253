// Checkpoints of an AdversarialTrainer: G, D (parameters and buffers), both optimizers'
// state, the Rng and the step count, in one .npz file that numpy.load reads. Weights use
// PyTorch's nn.Sequential state_dict names and layouts ("generator.0.weight" is the
// {out, in} weight of G's first layer), so they move between xgan and PyTorch.
// Saving is atomic and refuses a state that could not be loaded back; loading reads only
// the entries it expects, in bounded memory, and validates everything before it changes
// anything.
// The format, field by field: docs/reference/io-checkpoint.md.
#pragma once

#include <cmath>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <xgan/config.hpp>
#include <xgan/io/architecture.hpp>
#include <xgan/io/npy.hpp>
#include <xgan/io/npz.hpp>

namespace xgan {

inline constexpr std::string_view checkpoint_format = "xgan checkpoint 1";

// What a checkpoint needs of an optimizer's state beyond xgan::Optimizer: its step count
// and its per-parameter tensors by name (Adam and SGD provide them).
template <class State>
concept checkpointable_optimizer_state = requires(State& state, const State& const_state) {
    { const_state.steps() } -> std::convertible_to<std::uint64_t>;
    state.set_steps(std::uint64_t{});
    state.named_tensors();
    const_state.named_tensors();
};

namespace detail {
template <class Trainer>
constexpr bool check_checkpointable() {
    static_assert(checkpointable_optimizer_state<typename Trainer::generator_optimizer_state> &&
                      checkpointable_optimizer_state<typename Trainer::discriminator_optimizer_state>,
                  "xgan::save_checkpoint / load_checkpoint: an optimizer's state must provide steps(), "
                  "set_steps(n) and named_tensors() (see xgan::checkpointable_optimizer_state)");
    return true;
}
}  // namespace detail

namespace detail {

template <class T>
std::string scalar_name() {
    return std::is_same_v<T, float> ? "float32" : "float64";
}

template <class T>
void add_tensors(npz::writer& out, const std::string& prefix, const auto& named) {
    for (const auto& p : named) out.add(prefix + p.name, p.shape, p.values.data(), p.values.size());
}

template <class State, class T>
void add_optimizer(npz::writer& out, const std::string& prefix, const std::string& type, const State& state) {
    out.add_string(prefix + "type", type);
    const std::uint64_t steps = state.steps();
    out.add(prefix + "step", {}, &steps, 1);
    for (const auto& [name, values] : state.named_tensors())
        out.add(prefix + std::string(name), {values.size()}, values.data(), values.size());
}

inline std::vector<std::uint64_t> engine_words(const Rng& rng) {
    std::stringstream text;
    text << rng.engine();
    std::vector<std::uint64_t> words;
    std::uint64_t word = 0;
    while (text >> word) words.push_back(word);
    return words;
}

// The longest text entry a checkpoint reader reads (the format, the scalar type, the
// optimizers' names and the architectures' descriptions, which a few thousand layers fit).
inline constexpr std::size_t max_checkpoint_text_bytes = std::size_t{1} << 16;

// "entry 'NAME' holds nan at index 7" for the first value of `values` that is not finite, or "".
template <class U>
std::string non_finite(const std::string& name, std::span<const U> values) {
    if constexpr (std::is_floating_point_v<U>)
        for (std::size_t i = 0; i < values.size(); ++i)
            if (!std::isfinite(values[i])) {
                std::ostringstream text;
                text << "entry '" << name << "' holds " << values[i] << " at index " << i;
                return text.str();
            }
    return {};
}

// The first value in a trainer's state that no training run leaves there, or "": a value
// that is not finite in a tensor, or what a network's, an optimizer state's or the engine's
// own fault() says (a negative running variance or second moment, an all-zero engine).
// save_checkpoint refuses to write such a state and load_checkpoint to load one; the
// message names the checkpoint entry.
template <class G, class D, class GState, class DState>
std::string state_fault(const G& generator, const D& discriminator, const GState& g_state, const DState& d_state,
                        const Rng::engine_type& engine) {
    std::string fault;
    auto note = [&](const std::string& prefix, std::string found) {
        if (fault.empty() && !found.empty()) fault = prefix + found;
    };
    auto network = [&](const auto& net, const std::string& role) {
        using U = typename std::remove_cvref_t<decltype(net)>::value_type;
        for (const auto& p : net.named_parameters()) note("", non_finite(role + "." + p.name, std::span<const U>(p.values)));
        for (const auto& p : net.named_buffers()) note("", non_finite(role + "." + p.name, std::span<const U>(p.values)));
        if constexpr (requires { { net.fault() } -> std::convertible_to<std::string>; })
            if (fault.empty()) note(role + ".", net.fault());
    };
    auto optimizer = [&](const auto& state, const std::string& role) {
        const std::string prefix = "optimizer." + role + ".";
        for (const auto& [name, values] : state.named_tensors())
            note("", non_finite(prefix + std::string(name), std::span(values)));
        if constexpr (requires { { state.fault() } -> std::convertible_to<std::string>; })
            if (fault.empty()) note(prefix, state.fault());
    };
    network(generator, "generator");
    network(discriminator, "discriminator");
    optimizer(g_state, "generator");
    optimizer(d_state, "discriminator");
    if (fault.empty()) note("rng.mt19937_64: ", engine.fault());
    return fault;
}

// Reads checkpoint entries through an npz::reader, which inflates only the entries asked
// for, each checked against the dtype, shape and size the program expects before its data
// is read (see npz::reader::read_into).
class checkpoint_reader {
public:
    explicit checkpoint_reader(const npz::reader& entries) : entries_(entries) {}

    std::string text(const std::string& name) const {
        const npy::array a = entries_.read(name, npz::max_header_bytes + max_checkpoint_text_bytes);
        if (a.dtype.substr(0, 2) != "|S" || !a.shape.empty())
            XGAN_THROW(checkpoint_error, where(), ": entry '", name, "' should be a string, is ", a.dtype);
        std::string value = a.data;
        while (!value.empty() && value.back() == '\0') value.pop_back();  // numpy pads |S with NULs
        return value;
    }

    // Reads entry `name` into `out` after checking its dtype, shape and size, then its values.
    template <class U>
    void values(const std::string& name, const std::vector<std::size_t>& shape, std::span<U> out) const {
        entries_.read_into(name, shape, out);
        const std::string fault = non_finite(name, std::span<const U>(out));
        if (!fault.empty()) XGAN_THROW(checkpoint_error, where(), ": ", fault);
    }

    std::uint64_t scalar(const std::string& name) const {
        std::uint64_t value = 0;
        values(name, {}, std::span<std::uint64_t>(&value, 1));
        return value;
    }

    const std::string& where() const { return entries_.where(); }

private:
    const npz::reader& entries_;
};

// Reads a network's parameters and buffers into a copy, leaving `net` untouched on error.
template <class Net>
Net read_network(const checkpoint_reader& in, const std::string& role, const Net& net) {
    const std::string expected = describe<Net>();
    const std::string found = in.text("architecture." + role);
    if (found != expected)
        XGAN_THROW(checkpoint_error, in.where(), ": the checkpoint's ", role, " is ", found, " but this program's ",
                   role, " is ", expected);
    Net copy = net;
    for (const auto& p : copy.named_parameters()) in.values(role + "." + p.name, p.shape, p.values);
    for (const auto& p : copy.named_buffers()) in.values(role + "." + p.name, p.shape, p.values);
    return copy;
}

template <class Optimizer, class State>
State read_optimizer(const checkpoint_reader& in, const std::string& role, const State& state) {
    const std::string prefix = "optimizer." + role + ".";
    const std::string expected = optimizer_name<Optimizer>::text();
    const std::string found = in.text(prefix + "type");
    if (found != expected)
        XGAN_THROW(checkpoint_error, in.where(), ": the checkpoint's ", role, " optimizer is ", found,
                   " but this program's is ", expected);
    State copy = state;
    copy.set_steps(in.scalar(prefix + "step"));
    for (auto& [name, values] : copy.named_tensors())
        in.values(prefix + std::string(name), {values.size()}, values);
    return copy;
}

// The engine state in entry rng.mt19937_64: the 312 words and the position operator<<
// writes, the position within the block.
inline Rng::engine_type read_engine(const checkpoint_reader& in) {
    constexpr std::size_t n = Rng::engine_type::state_size;
    std::vector<std::uint64_t> words(n + 1);
    in.values("rng.mt19937_64", {words.size()}, std::span<std::uint64_t>(words));
    if (words[n] > n)
        XGAN_THROW(checkpoint_error, in.where(), ": entry 'rng.mt19937_64' holds position ", words[n],
                   " at index ", n, ", past the ", n, " state words");
    std::stringstream text;
    for (std::uint64_t w : words) text << w << ' ';
    Rng::engine_type engine;
    text >> engine;
    if (text.fail()) XGAN_THROW(checkpoint_error, in.where(), ": entry 'rng.mt19937_64' is not an engine state");
    return engine;
}

}  // namespace detail

// Options for save_checkpoint. before_rename runs once the new file is complete and
// flushed to disk, before it replaces the old one (tests simulate a crash there).
struct CheckpointOptions {
    std::function<void()> before_rename;
};

// Writes the trainer's whole state to `path` (.npz) atomically and durably (npz::writer::save):
// a crash leaves the previous file at `path` intact, and once it returns the new file
// survives a power loss. Refuses (checkpoint_error, nothing written) a state that
// load_checkpoint would refuse: NaN or inf anywhere, a value no training run produces.
template <class Trainer>
void save_checkpoint(const Trainer& trainer, const std::filesystem::path& path, const CheckpointOptions& options = {}) {
    static_assert(detail::check_checkpointable<Trainer>());
    using T = typename Trainer::value_type;
    using G = typename Trainer::generator_type;
    using D = typename Trainer::discriminator_type;
    // What is about to be written must load back: refuse it here, before the file at `path`
    // (a good checkpoint, perhaps) is touched.
    const std::string fault = detail::state_fault(trainer.generator(), trainer.discriminator(),
                                                  trainer.generator_state(), trainer.discriminator_state(),
                                                  trainer.rng().engine());
    if (!fault.empty())
        XGAN_THROW(checkpoint_error, "xgan::save_checkpoint: ", path.string(), " not written (", path.string(),
                   " is unchanged): the trainer's state would be refused on load: ", fault);
    npz::writer out;
    out.add_string("xgan.format", checkpoint_format);
    out.add_string("xgan.scalar", detail::scalar_name<T>());
    out.add_string("architecture.generator", describe<G>());
    out.add_string("architecture.discriminator", describe<D>());
    detail::add_tensors<T>(out, "generator.", trainer.generator().named_parameters());
    detail::add_tensors<T>(out, "generator.", trainer.generator().named_buffers());
    detail::add_tensors<T>(out, "discriminator.", trainer.discriminator().named_parameters());
    detail::add_tensors<T>(out, "discriminator.", trainer.discriminator().named_buffers());
    detail::add_optimizer<typename Trainer::generator_optimizer_state, T>(
        out, "optimizer.generator.",
        optimizer_name<std::remove_cvref_t<decltype(trainer.options().generator_optimizer)>>::text(),
        trainer.generator_state());
    detail::add_optimizer<typename Trainer::discriminator_optimizer_state, T>(
        out, "optimizer.discriminator.",
        optimizer_name<std::remove_cvref_t<decltype(trainer.options().discriminator_optimizer)>>::text(),
        trainer.discriminator_state());
    const auto words = detail::engine_words(trainer.rng());
    out.add("rng.mt19937_64", {words.size()}, words.data(), words.size());
    const std::uint64_t steps = trainer.steps();
    out.add("trainer.steps", {}, &steps, 1);
    out.save(path, options.before_rename);
}

// Restores a trainer from `path`. Throws checkpoint_error naming the file and the fault
// (corrupt or truncated file, another architecture, another scalar type or optimizer,
// NaN in a tensor, a value no training run produces) and then leaves the trainer exactly
// as it was. Reads only the entries it expects, each checked against its expected size
// before its data is read; other entries are skipped, unread.
template <class Trainer>
void load_checkpoint(Trainer& trainer, const std::filesystem::path& path) {
    load_checkpoint(trainer, npz::reader(path));
}

// The same from an archive already opened (npz::reader(bytes, where) reads one in memory).
template <class Trainer>
void load_checkpoint(Trainer& trainer, const npz::reader& entries) {
    static_assert(detail::check_checkpointable<Trainer>());
    using T = typename Trainer::value_type;
    const detail::checkpoint_reader in(entries);
    const std::string& path = in.where();
    if (in.text("xgan.format") != checkpoint_format)
        XGAN_THROW(checkpoint_error, path, ": format '", in.text("xgan.format"), "' is not '", checkpoint_format, "'");
    if (in.text("xgan.scalar") != detail::scalar_name<T>())
        XGAN_THROW(checkpoint_error, path, ": holds ", in.text("xgan.scalar"), " weights but this program ",
                   "trains in ", detail::scalar_name<T>());
    auto generator = detail::read_network(in, "generator", trainer.generator());
    auto discriminator = detail::read_network(in, "discriminator", trainer.discriminator());
    auto g_state = detail::read_optimizer<std::remove_cvref_t<decltype(trainer.options().generator_optimizer)>>(
        in, "generator", trainer.generator_state());
    auto d_state = detail::read_optimizer<std::remove_cvref_t<decltype(trainer.options().discriminator_optimizer)>>(
        in, "discriminator", trainer.discriminator_state());
    const Rng::engine_type engine = detail::read_engine(in);
    const std::uint64_t steps = in.scalar("trainer.steps");
    const std::string fault = detail::state_fault(generator, discriminator, g_state, d_state, engine);
    if (!fault.empty()) XGAN_THROW(checkpoint_error, path, ": ", fault);

    // Everything validated: commit (no throwing operation below).
    trainer.generator() = std::move(generator);
    trainer.discriminator() = std::move(discriminator);
    trainer.generator_state() = std::move(g_state);
    trainer.discriminator_state() = std::move(d_state);
    trainer.rng().engine() = engine;
    trainer.set_steps(steps);
}

}  // namespace xgan
