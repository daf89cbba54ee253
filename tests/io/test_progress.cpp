// io/ progress of a long run: the Progress bar (driven by an injected clock, so no
// test sleeps) and the CSV training log.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <xgan/io/csv_log.hpp>
#include <xgan/io/progress.hpp>

using namespace xgan;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
}

std::filesystem::path scratch(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() / "xgan_test_progress";
    std::filesystem::create_directories(dir);
    const auto path = dir / name;
    std::filesystem::remove(path);
    return path;
}

}  // namespace

TEST_CASE("Progress off a terminal prints one plain line every N percent", "[io][progress]") {
    double now = 100.0;
    std::ostringstream out;
    {
        Progress bar(200, out, {.clock = [&] { return now; }, .terminal = false, .log_every_percent = 25});
        CHECK_FALSE(bar.terminal());
        for (std::uint64_t step = 1; step <= 200; ++step) {
            now += 0.25;  // 4 steps/s
            bar.update(step, "D acc 0.5");
        }
        bar.finish("bye");
    }
    const std::vector<std::string> lines = lines_of(out.str());
    REQUIRE(lines.size() == 5);
    CHECK(lines[0] == "step 50/200 (25%)  4.00 steps/s  ETA 0:00:38  D acc 0.5");
    CHECK(lines[1] == "step 100/200 (50%)  4.00 steps/s  ETA 0:00:25  D acc 0.5");
    CHECK(lines[2] == "step 150/200 (75%)  4.00 steps/s  ETA 0:00:13  D acc 0.5");
    CHECK(lines[3] == "step 200/200 (100%)  4.00 steps/s  ETA 0:00:00  D acc 0.5");
    CHECK(lines[4] == "done 200/200 steps in 0:00:50 (4.00 steps/s)  bye");
    CHECK(out.str().find('\r') == std::string::npos);
}

TEST_CASE("Progress off a terminal also prints a line when log_every_seconds pass without one", "[io][progress]") {
    double now = 0.0;
    std::ostringstream out;
    Progress bar(1000, out,
                 {.clock = [&] { return now; }, .terminal = false, .log_every_percent = 50, .log_every_seconds = 120});
    for (std::uint64_t step = 1; step <= 1000; ++step) {
        now = static_cast<double>(step);  // a step a second
        bar.update(step);
    }
    std::vector<std::uint64_t> logged;
    for (const std::string& line : lines_of(out.str())) logged.push_back(std::stoull(line.substr(5)));
    CHECK(logged == std::vector<std::uint64_t>{120, 240, 360, 480, 500, 620, 740, 860, 980, 1000});
}

TEST_CASE("Progress on a terminal redraws in place at most every redraw_interval", "[io][progress]") {
    // Times in binary fractions, so that the arithmetic is exact: a step every 1/128 s,
    // a redraw every 0.25 s, i.e. at steps 1, 33, 65, ..., 993; then 1000 and finish().
    double now = 0.0;
    std::ostringstream out;
    Progress bar(1000, out, {.clock = [&] { return now; }, .terminal = true, .redraw_interval = 0.25, .bar_width = 10});
    for (std::uint64_t step = 1; step <= 1000; ++step) {
        now = static_cast<double>(step) / 128;
        bar.update(step);
        if (step == 400) {
            const std::string text = out.str();
            CHECK(text.substr(text.rfind('\r') + 1) == "[###.......]  38%  385/1000  128 steps/s  ETA 0:00:05");
        }
    }
    bar.finish();
    const std::string text = out.str();
    CHECK(std::count(text.begin(), text.end(), '\r') == 32 + 2);
    const std::vector<std::string> lines = lines_of(text);
    REQUIRE(lines.size() == 2);
    CHECK_THAT(lines[0], Catch::EndsWith("\r[##########] 100%  1000/1000  128 steps/s  ETA 0:00:00"));
    CHECK(lines[1] == "done 1000/1000 steps in 0:00:08 (128 steps/s)");
}

TEST_CASE("Progress shortens a line it redraws over with spaces", "[io][progress]") {
    double now = 0.0;
    std::ostringstream out;
    Progress bar(10, out, {.clock = [&] { return now; }, .terminal = true});
    now = 1;
    bar.update(1, "a long extra text");
    now = 2;
    bar.update(2, "short");
    const std::string text = out.str();
    const std::string first = text.substr(1, text.find('\r', 1) - 1), second = text.substr(text.rfind('\r') + 1);
    CHECK(second.size() == first.size());
    CHECK_THAT(second, Catch::Contains("short     "));

    bar.finish();  // the final redraw keeps the last extra text
    const std::string all = out.str();
    const std::string final_bar = all.substr(all.rfind('\r') + 1, all.find('\n') - all.rfind('\r') - 1);
    CHECK_THAT(final_bar, Catch::StartsWith("[") && Catch::Contains("  short"));
}

TEST_CASE("Progress smooths steps/s over time and computes the ETA from it", "[io][progress]") {
    double now = 0.0;
    std::ostringstream out;
    Progress bar(100000, out, {.clock = [&] { return now; }, .terminal = false, .smoothing = 10.0});
    CHECK(bar.steps_per_second() == 0);
    CHECK(bar.eta_seconds() == std::numeric_limits<double>::infinity());

    std::uint64_t step = 0;
    for (int i = 0; i < 200; ++i) {  // 20 s at 10 steps/s
        now += 0.1, step += 1;
        bar.update(step);
    }
    CHECK(bar.steps_per_second() == Approx(10.0));
    CHECK(bar.eta_seconds() == Approx((100000.0 - 200) / 10.0));

    now += 1.0, step += 20;  // a second at 20 steps/s moves the average by 1 - e^(-1/10) of the way
    bar.update(step);
    CHECK(bar.steps_per_second() == Approx(10.0 + 10.0 * (1 - std::exp(-0.1))));
    for (int i = 0; i < 100; ++i) {  // 100 s more at 20 steps/s: ten time constants
        now += 1.0, step += 20;
        bar.update(step);
    }
    CHECK(bar.steps_per_second() == Approx(20.0).epsilon(1e-3));
    CHECK(bar.eta_seconds() == Approx((100000.0 - static_cast<double>(step)) / 20.0).epsilon(1e-3));
}

TEST_CASE("Progress of a resumed run counts only the steps it saw", "[io][progress]") {
    double now = 0.0;
    std::ostringstream out;
    Progress bar(1000, out, {.clock = [&] { return now; }, .terminal = false, .start_step = 500});
    now = 10.0;
    bar.update(600);  // 100 steps in 10 s, not 600
    CHECK(bar.steps_per_second() == Approx(10.0));
    CHECK(Progress::format_duration(bar.eta_seconds()) == "0:00:40");
    CHECK(lines_of(out.str()) == std::vector<std::string>{"step 600/1000 (60%)  10.0 steps/s  ETA 0:00:40"});
}

TEST_CASE("Progress formats durations as h:mm:ss", "[io][progress]") {
    CHECK(Progress::format_duration(0) == "0:00:00");
    CHECK(Progress::format_duration(59.6) == "0:01:00");
    CHECK(Progress::format_duration(3661) == "1:01:01");
    CHECK(Progress::format_duration(100000) == "27:46:40");
    CHECK(Progress::format_duration(std::numeric_limits<double>::infinity()) == "-:--:--");
    CHECK(Progress::format_duration(-1) == "-:--:--");
}

TEST_CASE("Progress checks its arguments and knows a string stream is no terminal", "[io][progress]") {
    std::ostringstream out;
    CHECK_THROWS_WITH(Progress(0, out), Catch::Contains("total_steps"));
    CHECK_THROWS_WITH(Progress(10, out, {.start_step = 11}), Catch::Contains("start_step"));
    CHECK_THROWS_WITH(Progress(10, out, {.log_every_percent = 0}), Catch::Contains("log_every_percent"));
    CHECK_FALSE(Progress(10, out).terminal());
    CHECK(Progress(10, out, {.terminal = true}).terminal());
}

TEST_CASE("Progress left without finish() ends its terminal line", "[io][progress]") {
    std::ostringstream out;
    double now = 0;
    {
        Progress bar(10, out, {.clock = [&] { return now; }, .terminal = true});
        bar.update(3);
    }
    CHECK_THAT(out.str(), Catch::StartsWith("\r[") && Catch::EndsWith("\n"));
    CHECK(out.str().find("done") == std::string::npos);
}

// ---------------------------------------------------------------------------------

namespace {

StepStats stats(std::uint64_t step, double base) {
    return {.step = step, .d_accuracy = base, .d_score = -base, .d_loss = base / 3, .g_loss = base * 7, .d_fake = 0.1 + base};
}

bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

}  // namespace

TEST_CASE("CsvLog round trip: rows read back exactly, extra columns included", "[io][csv]") {
    const auto path = scratch("round_trip.csv");
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    const std::vector<StepStats> written{stats(1, 0.1), stats(2, 1.0 / 3.0), stats(3, 1e-300),
                                         {.step = 18446744073709551615u, .d_accuracy = nan, .d_score = inf,
                                          .d_loss = -inf, .g_loss = -0.0, .d_fake = 5e-324}};
    {
        CsvLog log(path, {"lr", "grad_norm"});
        for (std::size_t i = 0; i < written.size(); ++i) log.append(written[i], {1e-4 * double(i), 0.7});
        CHECK(log.rows() == 4);
        CHECK(log.last_step() == written.back().step);
    }
    const std::vector<std::string> lines = lines_of(read_file(path));
    REQUIRE(lines.size() == 5);
    CHECK(lines[0] == "step,d_accuracy,d_score,d_loss,g_loss,d_fake,lr,grad_norm");
    CHECK(lines[1] == "1,0.1,-0.1,0.03333333333333333,0.7000000000000001,0.2,0,0.7");

    const TrainingLog back = read_csv_log(path);
    CHECK(back.extra_columns == std::vector<std::string>{"lr", "grad_norm"});
    REQUIRE(back.rows.size() == written.size());
    for (std::size_t i = 0; i < written.size(); ++i) {
        const StepStats& a = written[i];
        const StepStats& b = back.rows[i].stats;
        INFO("row " << i);
        CHECK(a.step == b.step);
        CHECK(same(a.d_accuracy, b.d_accuracy));
        CHECK(same(a.d_score, b.d_score));
        CHECK(same(a.d_loss, b.d_loss));
        CHECK(same(a.g_loss, b.g_loss));
        CHECK(same(a.d_fake, b.d_fake));
        CHECK(back.rows[i].extra == std::vector<double>{1e-4 * double(i), 0.7});
    }
    CHECK(std::signbit(back.rows[3].stats.g_loss));  // -0 stays -0
}

TEST_CASE("CsvLog flushes every row and resumes an existing log under one header", "[io][csv]") {
    const auto path = scratch("resume.csv");
    {
        CsvLog log(path);
        log.append(stats(10, 0.5));
        CHECK(lines_of(read_file(path)).size() == 2);  // on disk before the log closes
        log.append(stats(20, 0.5));
        CHECK(lines_of(read_file(path)).size() == 3);
    }
    {
        CsvLog log(path);
        CHECK(log.rows() == 2);
        CHECK(log.last_step() == 20u);
        log.append(stats(30, 0.5));
    }
    const std::string text = read_file(path);
    CHECK(lines_of(text).size() == 4);
    CHECK(text.find("step,") == 0);
    CHECK(text.find("step,", 1) == std::string::npos);  // the header once
    const TrainingLog back = read_csv_log(path);
    REQUIRE(back.rows.size() == 3);
    CHECK(back.rows[2].stats.step == 30);
}

TEST_CASE("CsvLog refuses to resume a log with other columns", "[io][csv]") {
    const auto path = scratch("mismatch.csv");
    { CsvLog log(path, {"lr"}); }
    CHECK_THROWS_AS(CsvLog(path), std::runtime_error);
    CHECK_THROWS_WITH(CsvLog(path, {"lr", "beta"}),
                      Catch::Contains(path.string()) && Catch::Contains("'step,d_accuracy,d_score,d_loss,g_loss,d_fake,lr'") &&
                          Catch::Contains("'step,d_accuracy,d_score,d_loss,g_loss,d_fake,lr,beta'"));
    CHECK_NOTHROW(CsvLog(path, {"lr"}));
    CHECK(lines_of(read_file(path)).size() == 1);  // still just the header
}

TEST_CASE("CsvLog cuts off a row a crash left unfinished", "[io][csv]") {
    const auto path = scratch("crash.csv");
    write_file(path, "step,d_accuracy,d_score,d_loss,g_loss,d_fake\n1,0.5,-1.3,1.3,0.7,0.5\n2,0.5,-1.");
    CHECK(read_csv_log(path).rows.size() == 1);  // the reader leaves the cut line out
    {
        CsvLog log(path);
        CHECK(log.rows() == 1);
        log.append(stats(2, 0.25));
    }
    const TrainingLog back = read_csv_log(path);
    REQUIRE(back.rows.size() == 2);
    CHECK(back.rows[1].stats.d_accuracy == 0.25);

    write_file(path, "step,d_accuracy,d_score,d_loss,g_loss,d_fake");  // a header cut short
    { CsvLog(path).append(stats(1, 0.5)); }
    CHECK(read_csv_log(path).rows.size() == 1);
}

TEST_CASE("CsvLog::truncate_after removes the rows logged after a checkpoint's step", "[io][csv]") {
    const auto path = scratch("truncate.csv");
    {
        CsvLog log(path, {"lr"});
        for (std::uint64_t step = 1; step <= 5; ++step) log.append(stats(step, 0.5), {0.1});
    }
    const std::string whole = read_file(path);
    const std::string through_3 = whole.substr(0, whole.find("\n4,") + 1);

    // A run killed after logging step 5, resumed from its checkpoint of step 3.
    CsvLog log(path, {"lr"});
    CHECK(log.truncate_after(3) == 2);
    CHECK(log.rows() == 3);
    CHECK(log.last_step() == 3u);
    CHECK(read_file(path) == through_3);  // cut at a row's start: the file is what it was after step 3
    log.append(stats(4, 0.25), {0.2});
    const TrainingLog back = read_csv_log(path);
    REQUIRE(back.rows.size() == 4);
    for (std::size_t i = 0; i < 4; ++i) CHECK(back.rows[i].stats.step == i + 1);  // no step twice
    CHECK(back.rows[3].stats.d_accuracy == 0.25);

    CHECK(log.truncate_after(4) == 0);  // nothing after step 4: the file stays as it is
    CHECK(log.truncate_after(100) == 0);
    CHECK(read_csv_log(path).rows.size() == 4);

    CHECK(log.truncate_after(0) == 4);  // a checkpoint before any logged step: only the header is left
    CHECK(log.rows() == 0);
    CHECK(!log.last_step());
    CHECK(lines_of(read_file(path)) == std::vector<std::string>{"step,d_accuracy,d_score,d_loss,g_loss,d_fake,lr"});
    log.append(stats(1, 0.5), {0.1});
    CHECK(read_csv_log(path).rows.size() == 1);
}

TEST_CASE("CsvLog::truncate_after cuts from the first row past the step and names a bad step", "[io][csv]") {
    const auto path = scratch("truncate_order.csv");
    const std::string header = "step,d_accuracy,d_score,d_loss,g_loss,d_fake\n";
    // Steps out of order (two runs appended to one file): everything from the first row
    // past the step goes, even a later row with a smaller step.
    write_file(path, header + "1,0.5,-1.3,1.3,0.7,0.5\n7,0.5,-1.3,1.3,0.7,0.5\n2,0.5,-1.3,1.3,0.7,0.5\n");
    {
        CsvLog log(path);
        CHECK(log.truncate_after(5) == 2);
        CHECK(log.last_step() == 1u);
    }
    CHECK(read_file(path) == header + "1,0.5,-1.3,1.3,0.7,0.5\n");

    CsvLog log(path);
    const std::string changed = header + "1,0.5,-1.3,1.3,0.7,0.5\nx,0.5,-1.3,1.3,0.7,0.5\n";
    write_file(path, changed);  // behind the log's back
    CHECK_THROWS_WITH(log.truncate_after(0), Catch::Contains(path.string()) &&
                                                 Catch::Contains("line 3: field 1 (step) is 'x', not a step number"));
    CHECK(read_file(path) == changed);  // refused before anything is cut
}

TEST_CASE("read_csv_log names the line and field that are malformed", "[io][csv]") {
    const auto path = scratch("malformed.csv");
    const std::string header = "step,d_accuracy,d_score,d_loss,g_loss,d_fake,lr\n";
    const std::string good = "1,0.5,-1.3,1.3,0.7,0.5,0.001\n";

    write_file(path, header + good + good + "3,0.5,-1.3,1.3,0.7,0.5\n");
    CHECK_THROWS_WITH(read_csv_log(path), Catch::Contains(path.string()) && Catch::Contains("line 4: 6 fields") &&
                                              Catch::Contains("header has 7"));
    write_file(path, header + good + "2,0.5,abc,1.3,0.7,0.5,0.001\n");
    CHECK_THROWS_WITH(read_csv_log(path), Catch::Contains("line 3: field 3 (d_score) is 'abc', not a number"));
    write_file(path, header + "-2,0.5,-1.3,1.3,0.7,0.5,0.001\n");
    CHECK_THROWS_WITH(read_csv_log(path), Catch::Contains("line 2: field 1 (step) is '-2'"));
    write_file(path, header + "2,0.5,-1.3,1.3,0.7,0.5,\n");
    CHECK_THROWS_WITH(read_csv_log(path), Catch::Contains("line 2: field 7 (lr) is ''"));
    write_file(path, "epoch,loss\n1,2\n");
    CHECK_THROWS_WITH(read_csv_log(path), Catch::Contains("line 1: the header is 'epoch,loss'"));
    write_file(path, "");
    CHECK_THROWS_WITH(read_csv_log(path), Catch::Contains("no complete line"));
    CHECK_THROWS_WITH(read_csv_log(path.string() + ".missing"), Catch::Contains("cannot open"));

    // Resuming a malformed log fails the same way instead of appending to it.
    write_file(path, "step,d_accuracy,d_score,d_loss,g_loss,d_fake\n1,x,0,0,0,0\n");
    CHECK_THROWS_WITH(CsvLog(path), Catch::Contains("line 2: field 2 (d_accuracy)"));
}

TEST_CASE("CsvLog checks extra columns and values", "[io][csv]") {
    const auto path = scratch("checks.csv");
    CHECK_THROWS_WITH(CsvLog(path, {"a,b"}), Catch::Contains("comma"));
    CHECK_THROWS_WITH(CsvLog(path, {"g_loss"}), Catch::Contains("standard"));
    CsvLog log(path, {"lr"});
    CHECK_THROWS_WITH(log.append(stats(1, 0.5)), Catch::Contains("0 extra value(s) for 1 extra column(s)"));
    CHECK_THROWS_AS(log.append(stats(1, 0.5), {1.0, 2.0}), std::invalid_argument);
    CHECK(log.rows() == 0);
}

TEST_CASE("Progress on a terminal fits its line to the width: a shorter bar, then the extra text cut",
          "[io][progress]") {
    // Example 03's line: with the 24-character bar it is 124 columns wide.
    const std::string extra = "D(real) 0.512  D score -1.380  G loss -0.698";
    const auto last_line = [&](std::size_t columns, std::size_t bar_width) {
        double now = 0.0;
        std::ostringstream out;
        Progress bar(5000, out, {.clock = [&] { return now; }, .terminal = true, .bar_width = bar_width,
                                 .label = "training", .columns = columns});
        now = 4;
        bar.update(2000, extra);
        const std::string text = out.str();
        return text.substr(text.rfind('\r') + 1);
    };
    const std::string numbers = "  40%  2000/5000  500 steps/s  ETA 0:00:06  ";
    CHECK(last_line(200, 24) == "training  [#########...............]" + numbers + extra);
    CHECK(last_line(200, 24).size() == 124);

    // 120 columns: the bar gives up what is needed (the line is 119 wide: one column spare).
    CHECK(last_line(120, 24) == "training  [#######............]" + numbers + extra);
    CHECK(last_line(120, 24).size() == 119);

    // 80 columns: a 10-character bar, and the extra text loses its end.
    const std::string eighty = last_line(80, 24);
    CHECK(eighty.size() == 79);
    CHECK(eighty == ("training  [####......]" + numbers + extra).substr(0, 79));

    // A bar narrower than 10 stays as asked; a tiny terminal still gets one line.
    CHECK_THAT(last_line(80, 4), Catch::StartsWith("training  [#...]  40%"));
    CHECK(last_line(20, 24).size() == 19);
}

TEST_CASE("Progress redraws within the width after a longer line", "[io][progress]") {
    double now = 0.0;
    std::ostringstream out;
    Progress bar(10, out, {.clock = [&] { return now; }, .terminal = true, .columns = 60});
    now = 1;
    bar.update(1, std::string(100, 'x'));
    now = 2;
    bar.update(2, "short");
    const std::string text = out.str();
    const std::string first = text.substr(1, text.find('\r', 1) - 1), second = text.substr(text.rfind('\r') + 1);
    CHECK(first.size() == 59);
    CHECK(second.size() == 59);  // padded over the first, not past the width
    CHECK_THAT(second, Catch::EndsWith("  short"));
}

TEST_CASE("Progress::terminal_columns reads COLUMNS, else the terminal, else 80", "[io][progress]") {
    const char* saved = std::getenv("COLUMNS");
    const std::string restore = saved ? saved : "";
    ::setenv("COLUMNS", "132", 1);
    CHECK(Progress::terminal_columns(-1) == 132);
    ::setenv("COLUMNS", "wide", 1);  // not a number: ignored
    CHECK(Progress::terminal_columns(-1) == 80);
    ::setenv("COLUMNS", "0", 1);
    CHECK(Progress::terminal_columns(-1) == 80);
    ::unsetenv("COLUMNS");
    CHECK(Progress::terminal_columns(-1) == 80);  // no descriptor: the fallback
    const std::filesystem::path path = scratch("columns.txt");
    {
        std::FILE* file = std::fopen(path.string().c_str(), "w");
        REQUIRE(file != nullptr);
        CHECK(Progress::terminal_columns(::fileno(file)) == 80);  // a file is no terminal
        std::fclose(file);
    }
    if (saved) ::setenv("COLUMNS", restore.c_str(), 1);
}
