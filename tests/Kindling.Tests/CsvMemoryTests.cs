using System.Globalization;
using System.Text;
using Kindling.Data;

namespace Kindling.Tests;

/// <summary>
/// CsvTable parses cells to numbers while reading (float32 per numeric column): memory, columns that turn out to be
/// text after many numbers (their texts are read again), and the exact texts in error messages.
/// </summary>
public sealed class CsvMemoryTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kindling-csvmem-" + Guid.NewGuid().ToString("N"));

    public CsvMemoryTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string Write(string text, string name = "data.csv")
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Both ways in: a file (texts re-read from it) and a TextReader (texts re-read from the kept text).</summary>
    private IEnumerable<CsvTable> Both(string text, CsvOptions? options = null)
    {
        yield return CsvTable.Load(Write(text), options);
        yield return CsvTable.Parse(new StringReader(text), options, Path.Combine(_dir, "data.csv"));
    }

    [Fact]
    public void LoadingNumericColumnsAllocatesAboutOneFloat32Copy()
    {
        const int rows = 200_000, cols = 20;
        var rng = new Random(1);
        var sb = new StringBuilder(rows * cols * 10);
        sb.AppendJoin(',', Enumerable.Range(0, cols).Select(j => $"f{j}")).Append(",target\n");
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < cols; j++) sb.Append((rng.NextDouble() * 200 - 100).ToString("G6", CultureInfo.InvariantCulture)).Append(',');
            sb.Append(r % 7).Append('\n');
        }
        var path = Write(sb.ToString(), "big.csv");
        sb = null;
        long float32 = (long)rows * cols * 4; // 16 MB
        long before = GC.GetAllocatedBytesForCurrentThread();
        var table = CsvTable.Load(path, new CsvOptions { ExactColumns = ["target"] });
        long loaded = GC.GetAllocatedBytesForCurrentThread() - before;
        var data = table.ToData(["target"], TargetKind.Classification);
        long total = GC.GetAllocatedBytesForCurrentThread() - before;
        // The former reader kept every cell as a string (~170 MB here) plus a float64 copy per column. The fixed
        // allowance covers the reader's buffers and the columns' first chunks growing (~6 MB each, measured).
        const long fixedBytes = 16 << 20;
        Assert.True(loaded <= 1.25 * float32 + fixedBytes, $"loading allocated {loaded / 1e6:F1} MB for {float32 / 1e6:F1} MB of float32 data");
        Assert.True(total <= 2.5 * float32 + fixedBytes, $"loading and building the tensors allocated {total / 1e6:F1} MB for {float32 / 1e6:F1} MB of float32 data");
        Assert.Equal([rows, cols], data.Features.Shape);
        // The values are float64 parses rounded to float32, exactly as before.
        var first = File.ReadLines(path).Skip(1).First().Split(',');
        var x = data.Features.Narrow(0, 0, 1).ToArray();
        for (int j = 0; j < cols; j++) Assert.Equal((float)double.Parse(first[j], CultureInfo.InvariantCulture), x[j]);
        Assert.Equal(["0", "1", "2", "3", "4", "5", "6"], data.ClassNames);
    }

    [Fact]
    public void ColumnThatTurnsToTextAfterNumbersKeepsEveryCellsText()
    {
        // 'code' starts with 8 numbers (read as numbers), then 12 words: mostly words, so it is one-hot encoded, and the
        // categories are the cells' own texts ("007", "1.50"), not re-formatted numbers.
        var sb = new StringBuilder("code,x,y\n");
        string[] numbers = ["007", "1.50", "3", "007", "2e1", "3", "1.50", "9"];
        for (int r = 0; r < 20; r++) sb.Append(r < numbers.Length ? numbers[r] : $"w{r % 3}").Append(',').Append(r).Append(',').Append(r % 2).Append('\n');
        foreach (var t in Both(sb.ToString()))
        {
            Assert.False(t.IsNumeric("code"));
            Assert.Equal(["007", "1.50", "2e1", "3", "9", "w0", "w1", "w2"], t.Categories("code"));
            Assert.Equal("1.50", t.GetColumn("code")[1]);
            var d = t.ToData(["y"], TargetKind.Classification);
            Assert.Contains("code=007", d.FeatureNames);
            var x = d.Features.Narrow(0, 3, 1).ToArray(); // row 4 is "007"
            Assert.Equal(1f, x[d.FeatureNames.ToList().IndexOf("code=007")]);
            Assert.Equal(3f, x[d.FeatureNames.ToList().IndexOf("x")]);
        }
    }

    [Fact]
    public void ColumnThatStartsWithWordsButIsMostlyNumbersIsNumericWithItsFirstBadCell()
    {
        var sb = new StringBuilder("a,y\n");
        sb.Append("NA,0\nabc,1\nxyz,0\n");
        for (int r = 0; r < 10; r++) sb.Append(r * 0.5).Append(',').Append(r % 2).Append('\n');
        foreach (var t in Both(sb.ToString(), new CsvOptions { MissingValues = MissingValueMode.Zero }))
        {
            Assert.True(t.IsNumeric("a"));
            Assert.Equal("NA", t.GetColumn("a")[0]);
            var e = Assert.Throws<DataException>(() => t.Features(["a"]));
            Assert.Equal($"{t.Source}: column 'a' is numeric, but line 3 (data row 2) has the non-numeric value 'abc'. Fix the cell, write it as a missing value (empty or one of NA, N/A, NaN, nan, null, NULL, ?), or list 'a' in CsvOptions.CategoricalColumns to one-hot encode the column.", e.Message);
        }
    }

    [Fact]
    public void MixedMissingValuesGiveTheFirstMissingCellsTextAndLine()
    {
        const string csv = "a,b,y\n1,2,0\n3,,1\n4,NA,0\n5,null,1\n,7,0\n";
        foreach (var t in Both(csv))
        {
            var e = Assert.Throws<DataException>(() => t.ToData(["y"], TargetKind.Classification));
            Assert.Equal($"{t.Source}: missing value in column 'a' at line 6 (data row 5) (cell ''). Set CsvOptions.MissingValues to Mean, Zero or Drop to fill or skip missing cells.", e.Message);
            var eb = Assert.Throws<DataException>(() => t.ToData(["y"], TargetKind.Classification, ["b"]));
            Assert.Contains("missing value in column 'b' at line 3 (data row 2) (cell '')", eb.Message);
            var et = Assert.Throws<DataException>(() => t.ToData(["b"], TargetKind.Regression, ["a"]));
            Assert.Equal($"{t.Source}: missing value in target column 'b' at line 3 (data row 2) (cell ''). Targets are never filled in; fix the data or set CsvOptions.MissingValues = MissingValueMode.Drop to skip such rows.", et.Message);
            Assert.Equal(3, t.GetColumn("b").Count(t.IsMissingCell));
        }
        var tokens = CsvTable.Parse(new StringReader("a,b,y\n1,2,0\n3,NA,1\n4,,0\n"), source: "s.csv");
        Assert.Contains("at line 3 (data row 2) (cell 'NA')", Assert.Throws<DataException>(() => tokens.ToData(["y"], TargetKind.Classification)).Message);

        // Mean: the mean of the present float64 values, rounded once to float32; Drop: the rows without a gap.
        var mean = CsvTable.Parse(new StringReader(csv), new CsvOptions { MissingValues = MissingValueMode.Mean }).ToData(["y"], TargetKind.Classification);
        Assert.Equal((float)((1 + 3 + 4 + 5) / 4.0), mean.Features.ToArray()[4 * 2]);
        Assert.Equal((float)((2 + 7) / 2.0), mean.Features.ToArray()[1 * 2 + 1]);
        var drop = CsvTable.Parse(new StringReader(csv), new CsvOptions { MissingValues = MissingValueMode.Drop }).ToData(["y"], TargetKind.Classification);
        Assert.Equal([1f, 2f], drop.Features.ToArray());
    }

    [Fact]
    public void MessagesAndLabelsUseTheCellsOwnTextAndExactValues()
    {
        foreach (var exact in new[] { false, true })
        {
            var options = new CsvOptions { ExactColumns = exact ? ["y"] : [] };
            foreach (var t in Both("x,y\n1,1\n2,2.50\n3,1\n", options))
            {
                // 'y' is held as float32 unless it is exact: its text is read again for the message.
                var e = Assert.Throws<DataException>(() => t.ToData(["y"], TargetKind.Classification));
                Assert.Contains("has the non-integer value '2.50' at line 3 (data row 2)", e.Message);
            }
            foreach (var t in Both("x,y\n1,9007199254740993\n2,1\n", options))
                Assert.Contains("has the label '9007199254740993' at line 2 (data row 1), at or beyond 2^53", Assert.Throws<DataException>(() => t.ToData(["y"], TargetKind.Classification)).Message);
            foreach (var t in Both("x,y\n0.1,16777217\n1e39,16777216\n", options))
            {
                // Float64 values whatever the storage: 16777217 is not a float32 and 0.1 stays 0.1.
                Assert.Equal([16777217.0, 16777216.0], t.NumericValues("y"));
                Assert.Equal(["16777216", "16777217"], t.ToData(["y"], TargetKind.Classification, []).ClassNames);
                Assert.Equal("1e39", t.GetColumn("x")[1]);
                Assert.Contains("column 'x' at line 3 (data row 2) has '1e39', which is not a finite float32 number", Assert.Throws<DataException>(() => t.NumericValues("x")).Message);
            }
        }
    }

    [Fact]
    public void AFileChangedWhileInUseIsReportedWhenItsTextIsReadAgain()
    {
        var path = Write("x,y\n1,1\n2,2\n");
        var t = CsvTable.Load(path);
        File.WriteAllText(path, "x,y\n1,1\n");
        Assert.Contains("the file changed while it was in use", Assert.Throws<DataException>(() => t.GetColumn("x")).Message);
    }
}
