using System.Buffers.Binary;
using System.IO.Compression;
using Kindling.Data;

namespace Kindling.Tests;

/// <summary>Data layer: datasets, loader, standardization, CSV, IDX, Fashion-MNIST and the embedded datasets.</summary>
public sealed class DataTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kindling-data-" + Guid.NewGuid().ToString("N"));

    public DataTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>n samples whose features are [i, 10 i] and whose label is i, so every batch row can be traced back.</summary>
    private static TensorDataset Indexed(int n)
    {
        var x = new float[n * 2];
        var y = new long[n];
        for (int i = 0; i < n; i++) { x[2 * i] = i; x[2 * i + 1] = 10 * i; y[i] = i; }
        return new TensorDataset(Tensor.FromArray(x, n, 2), Tensor.FromArray(y));
    }

    private static List<long[]> Epoch(DataLoader loader) => loader.Select(b => b.Y.ToInt64Array()).ToList();

    // ---------------------------------------------------------------- DataLoader

    [Fact]
    public void EveryEpochVisitsEachSampleExactlyOnceWithRowsIntact()
    {
        var loader = new DataLoader(Indexed(10), batchSize: 3, shuffle: true, generator: new Generator(7));
        Assert.Equal(4, loader.Count);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var seen = new List<long>();
            var sizes = new List<int>();
            foreach (var (x, y) in loader)
            {
                Assert.Equal(DType.Float32, x.DType);
                Assert.Equal(DType.Int64, y.DType);
                Assert.Equal(2, x.Size(1));
                Assert.Equal(x.Size(0), y.Size(0));
                Assert.Equal(1, y.Rank);
                var xs = x.ToArray();
                var ys = y.ToInt64Array();
                for (int i = 0; i < ys.Length; i++)
                {
                    Assert.Equal(ys[i], (long)xs[2 * i]);
                    Assert.Equal(10 * ys[i], (long)xs[2 * i + 1]);
                }
                seen.AddRange(ys);
                sizes.Add(x.Size(0));
            }
            Assert.Equal(new[] { 3, 3, 3, 1 }, sizes);
            Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), seen.OrderBy(v => v));
            Assert.Equal(seen, loader.Order.Select(i => (long)i));
        }
        Assert.Equal(3, loader.Epoch);
    }

    [Fact]
    public void ShuffleIsReproducibleBySeedAndDiffersAcrossEpochs()
    {
        var a = new DataLoader(Indexed(50), 8, shuffle: true, generator: new Generator(42));
        var b = new DataLoader(Indexed(50), 8, shuffle: true, generator: new Generator(42));
        var a1 = Epoch(a).SelectMany(v => v).ToArray();
        var a2 = Epoch(a).SelectMany(v => v).ToArray();
        var b1 = Epoch(b).SelectMany(v => v).ToArray();
        var b2 = Epoch(b).SelectMany(v => v).ToArray();
        Assert.Equal(a1, b1);
        Assert.Equal(a2, b2);
        Assert.NotEqual(a1, a2);
        Assert.NotEqual(Enumerable.Range(0, 50).Select(i => (long)i).ToArray(), a1);
        // Same draws as Tensor.RandPerm, so the order is defined by the generator alone.
        Assert.Equal(Tensor.RandPerm(50, new Generator(42)).ToInt64Array(), a1);
        var c = new DataLoader(Indexed(50), 8, shuffle: true, generator: new Generator(43));
        Assert.NotEqual(a1, Epoch(c).SelectMany(v => v).ToArray());
    }

    [Fact]
    public void OrderIsDrawnWhenTheEpochStarts()
    {
        var loader = new DataLoader(Indexed(6), 2, shuffle: true, generator: new Generator(3));
        Assert.Equal(Enumerable.Range(0, 6), loader.Order);
        using var e = loader.GetEnumerator();
        var order = loader.Order.ToArray();
        Assert.True(e.MoveNext());
        Assert.Equal(order.Take(2).Select(i => (long)i), e.Current.Y.ToInt64Array());
    }

    [Fact]
    public void WithoutShuffleBatchesAreInOrderAndLastBatchIsPartial()
    {
        var loader = new DataLoader(Indexed(7), 3);
        var batches = Epoch(loader);
        Assert.Equal(3, loader.Count);
        Assert.Equal(new long[] { 0, 1, 2 }, batches[0]);
        Assert.Equal(new long[] { 3, 4, 5 }, batches[1]);
        Assert.Equal(new long[] { 6 }, batches[2]);
    }

    [Fact]
    public void DropLastSkipsTheIncompleteBatch()
    {
        var loader = new DataLoader(Indexed(10), 3, shuffle: true, dropLast: true, generator: new Generator(1));
        Assert.Equal(3, loader.Count);
        var batches = loader.ToList();
        Assert.Equal(3, batches.Count);
        Assert.All(batches, b => Assert.Equal(new[] { 3, 2 }, b.X.Shape));
        var exact = new DataLoader(Indexed(9), 3, dropLast: true);
        Assert.Equal(3, exact.Count);
        Assert.Equal(3, exact.Count());
        Assert.Empty(new DataLoader(Indexed(2), 3, dropLast: true));
    }

    [Fact]
    public void BatchesKeepMultiDimensionalFeatureAndTargetShapes()
    {
        var x = Tensor.Arange(5 * 2 * 3).To(DType.Float32).Reshape(5, 2, 3);
        var y = Tensor.FromArray(Enumerable.Range(0, 10).Select(i => (float)i).ToArray(), 5, 2);
        var ds = new TensorDataset(x, y);
        Assert.Equal(new[] { 2, 3 }, ds.FeatureShape);
        Assert.Equal(new[] { 2 }, ds.TargetShape);
        Assert.Equal(DType.Float32, ds.TargetDType);
        var batches = new DataLoader(ds, 2).ToList();
        Assert.Equal(new[] { 2, 2, 3 }, batches[0].X.Shape);
        Assert.Equal(new[] { 2, 2 }, batches[0].Y.Shape);
        Assert.Equal(new[] { 1, 2, 3 }, batches[2].X.Shape);
        Assert.Equal(new float[] { 8, 9 }, batches[2].Y.ToArray());
        Assert.Equal(Enumerable.Range(24, 6).Select(i => (float)i), batches[2].X.ToArray());
        var (x1, y1) = ds[1];
        Assert.Equal(new[] { 2, 3 }, x1.Shape);
        Assert.Equal(new float[] { 2, 3 }, y1.ToArray());
    }

    [Fact]
    public void BatchesDoNotShareBuffers()
    {
        var loader = new DataLoader(Indexed(4), 2);
        var batches = loader.ToList(); // holding on to earlier batches must be safe
        Assert.Equal(new long[] { 0, 1 }, batches[0].Y.ToInt64Array());
        Assert.Equal(new long[] { 2, 3 }, batches[1].Y.ToInt64Array());
    }

    [Fact]
    public void NonPositiveBatchSizeIsRejectedClearly()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(Indexed(4), 0));
        Assert.Contains("batchSize must be a positive number", e.Message);
        Assert.Contains("got 0", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(Indexed(4), -5));
    }

    [Fact]
    public void TensorDatasetChecksSampleCountsAndTypes()
    {
        var e = Assert.Throws<ArgumentException>(() => new TensorDataset(Tensor.Zeros(5, 2), Tensor.FromArray(new long[4])));
        Assert.Contains("features have 5 samples", e.Message);
        Assert.Contains("targets have 4", e.Message);
        Assert.Throws<ArgumentException>(() => new TensorDataset(Tensor.Zeros(2, 2), Tensor.FromArray(new[] { true, false })));
        var ds = new TensorDataset(Tensor.Zeros(3, 2), Tensor.FromArray(new long[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ds[3]);
        Assert.Throws<NotSupportedException>(() => ds.CopyTarget(0, new float[1]));
    }

    // ---------------------------------------------------------------- Subset / RandomSplit

    [Fact]
    public void RandomSplitByLengthsIsDisjointAndComplete()
    {
        var ds = Indexed(20);
        var parts = Dataset.RandomSplit(ds, [12, 5, 3], new Generator(5));
        Assert.Equal(new[] { 12, 5, 3 }, parts.Select(p => p.Count));
        var all = parts.SelectMany(p => p.Indices).ToList();
        Assert.Equal(20, all.Distinct().Count());
        // PyTorch semantics: one permutation, cut in order.
        var perm = Tensor.RandPerm(20, new Generator(5)).ToInt64Array();
        Assert.Equal(perm.Select(v => (int)v), all);
        // The subset really serves the parent's samples.
        var (_, y) = parts[1][0];
        Assert.Equal(parts[1].Indices[0], (int)y.ToInt64Array()[0]);
        var loaded = new DataLoader(parts[2], 2).SelectMany(b => b.Y.ToInt64Array()).Select(v => (int)v);
        Assert.Equal(parts[2].Indices, loaded);
    }

    [Fact]
    public void RandomSplitByFractionsFollowsPyTorchRounding()
    {
        Assert.Equal(new[] { 7, 3 }, Dataset.RandomSplit(Indexed(10), [0.7, 0.3], new Generator(1)).Select(p => p.Count));
        // floor gives 3+3+3; the remainder goes to the first part.
        Assert.Equal(new[] { 4, 3, 3 }, Dataset.RandomSplit(Indexed(10), [1 / 3.0, 1 / 3.0, 1 / 3.0], new Generator(1)).Select(p => p.Count));
        var a = Dataset.RandomSplit(Indexed(10), [0.5, 0.5], new Generator(9));
        var b = Dataset.RandomSplit(Indexed(10), [0.5, 0.5], new Generator(9));
        Assert.Equal(a[0].Indices, b[0].Indices);
        Assert.Contains("sum to 0.9", Assert.Throws<ArgumentException>(() => Dataset.RandomSplit(Indexed(10), [0.6, 0.3])).Message);
        Assert.Contains("sum to 9", Assert.Throws<ArgumentException>(() => Dataset.RandomSplit(Indexed(10), [5, 4])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Subset(Indexed(3), [0, 3]));
    }

    // ---------------------------------------------------------------- Standardize

    [Fact]
    public void StandardizeUsesTrainStatisticsOnly()
    {
        var g = new Generator(11);
        var train = Tensor.Randn([200, 3], g) * 4 + 10;
        var test = Tensor.Randn([50, 3], g) * 2 - 3;
        var s = Standardize.Fit(train);
        var z = s.Transform(train);
        var zs = z.ToDoubleArray();
        for (int j = 0; j < 3; j++)
        {
            var col = Enumerable.Range(0, 200).Select(i => zs[i * 3 + j]).ToArray();
            double mean = col.Average();
            double std = Math.Sqrt(col.Select(v => (v - mean) * (v - mean)).Sum() / col.Length); // population std, like sklearn
            Assert.Equal(0, mean, 1e-5);
            Assert.Equal(1, std, 1e-5);
        }
        // Test data is transformed with the training mean/std, not its own.
        var t = test.ToArray();
        var m = s.Mean.ToArray();
        var sd = s.Std.ToArray();
        var zt = s.Transform(test).ToArray();
        for (int i = 0; i < t.Length; i++) Assert.Equal((t[i] - m[i % 3]) / sd[i % 3], zt[i], 1e-5f);
        Assert.True(Math.Abs(zt.Where((_, i) => i % 3 == 0).Average()) > 1); // far from 0: test data has a different mean
        var back = s.InverseTransform(s.Transform(test)).ToArray();
        for (int i = 0; i < t.Length; i++) Assert.Equal(t[i], back[i], 1e-3f);
    }

    [Fact]
    public void StandardizeMatchesPopulationStdAndHandlesConstantColumns()
    {
        var x = Tensor.FromArray(new float[] { 1, 5, 2, 5, 3, 5, 4, 5 }, 4, 2);
        var s = Standardize.Fit(x);
        Assert.Equal(new float[] { 2.5f, 5 }, s.Mean.ToArray());
        Assert.Equal((float)Math.Sqrt(1.25), s.Std.ToArray()[0], 1e-6f); // ddof 0, not 1
        Assert.Equal(1f, s.Std.ToArray()[1]);
        Assert.All(s.Transform(x).ToArray().Where((_, i) => i % 2 == 1), v => Assert.Equal(0f, v));
        var e = Assert.Throws<ArgumentException>(() => s.Transform(Tensor.Zeros(3, 4)));
        Assert.Contains("2 columns", e.Message);
    }

    [Fact]
    public void StandardizeStateRoundTrips()
    {
        var s = Standardize.Fit(Tensor.Randn([30, 4], new Generator(2)) * 3 + 1);
        var state = s.StateDict();
        Assert.Equal(new[] { "mean", "std" }, state.Keys.OrderBy(k => k));
        var r = Standardize.FromStateDict(state);
        Assert.Equal(s.Mean.ToArray(), r.Mean.ToArray());
        Assert.Equal(s.Std.ToArray(), r.Std.ToArray());
        var x = Tensor.Randn([5, 4], new Generator(3));
        Assert.Equal(s.Transform(x).ToArray(), r.Transform(x).ToArray());
        Assert.Throws<ArgumentException>(() => Standardize.FromStateDict(new Dictionary<string, Tensor> { ["mean"] = Tensor.Zeros(4) }));
    }

    // ---------------------------------------------------------------- CSV

    private string WriteCsv(string text, string name = "data.csv")
    {
        var p = Path.Combine(_dir, name);
        File.WriteAllText(p, text);
        return p;
    }

    private const string Pets =
        "age,color,income,label\n" +
        "25,red,50000.5,cat\n" +
        "32,blue,64000,dog\n" +
        "47, green ,1e4,cat\n" +
        "51,red,72000,dog\n";

    [Fact]
    public void CsvOneHotEncodesStringColumnsAndLabelsTargetsByName()
    {
        var table = CsvTable.Load(WriteCsv(Pets));
        Assert.Equal(new[] { "age", "color", "income", "label" }, table.ColumnNames);
        Assert.Equal(4, table.RowCount);
        Assert.True(table.IsNumeric("age"));
        Assert.False(table.IsNumeric("color"));
        Assert.Equal(new[] { "blue", "green", "red" }, table.Categories("color"));
        var data = table.ToData(["label"], TargetKind.Classification);
        Assert.Equal(new[] { "age", "color=blue", "color=green", "color=red", "income" }, data.FeatureNames);
        Assert.Equal(new[] { 4, 5 }, data.Features.Shape);
        Assert.Equal(DType.Float32, data.Features.DType);
        Assert.Equal(new float[] { 25, 0, 0, 1, 50000.5f, 32, 1, 0, 0, 64000, 47, 0, 1, 0, 10000, 51, 0, 0, 1, 72000 }, data.Features.ToArray());
        Assert.Equal(DType.Int64, data.Targets.DType);
        Assert.Equal(new long[] { 0, 1, 0, 1 }, data.Targets.ToInt64Array());
        Assert.Equal(new[] { "cat", "dog" }, data.ClassNames);
        Assert.Equal(2, data.NumClasses);
        var ds = table.ToDataset(["label"], TargetKind.Classification, ["age", "color"]);
        Assert.Equal(new[] { "cat", "dog" }, ds.ClassNames);
        Assert.Equal(new[] { 4 }, ds.FeatureShape);
        Assert.Equal(new[] { "age", "color=blue", "color=green", "color=red" }, ds.FeatureNames);
        Assert.Equal(new[] { "age", "income" }, table.FeatureNames(["age", "income"]));
        Assert.Equal(new float[] { 25, 50000.5f }, table.Features(["age", "income"]).ToArray().Take(2));
    }

    [Fact]
    public void CsvNumericClassLabelsSortNumericallyAndRegressionKeepsFloats()
    {
        var table = CsvTable.Load(WriteCsv("x,y,z\n1,7,0.5\n2,3,1.5\n3,10,2.5\n4,9,3.5\n"));
        var cls = table.ToData(["y"], TargetKind.Classification);
        Assert.Equal(new[] { "3", "7", "9", "10" }, cls.ClassNames);
        Assert.Equal(new long[] { 1, 0, 3, 2 }, cls.Targets.ToInt64Array());
        Assert.Equal(new[] { "x", "z" }, cls.FeatureNames);
        var reg = table.ToData(["z"], TargetKind.Regression);
        Assert.Equal(DType.Float32, reg.Targets.DType);
        Assert.Equal(new[] { 4 }, reg.Targets.Shape);
        Assert.Equal(new[] { 0.5f, 1.5f, 2.5f, 3.5f }, reg.Targets.ToArray());
        Assert.Null(reg.ClassNames);
        var multi = table.ToData(["y", "z"], TargetKind.Regression);
        Assert.Equal(new[] { 4, 2 }, multi.Targets.Shape);
        Assert.Equal(new[] { 7f, 0.5f }, multi.Targets.ToArray().Take(2));
        Assert.Equal(new[] { 4, 1 }, multi.Features.Shape);
        var e = Assert.Throws<DataException>(() => table.ToData(["z"], TargetKind.Classification));
        Assert.Contains("non-integer value '0.5'", e.Message);
        Assert.Contains("line 2", e.Message);
        Assert.Contains("TargetKind.Regression", e.Message);
        Assert.Contains("one target column", Assert.Throws<DataException>(() => table.ToData(["y", "z"], TargetKind.Classification)).Message);
        Assert.Contains("both a target and a feature", Assert.Throws<DataException>(() => table.ToData(["y"], TargetKind.Classification, ["x", "y"])).Message);
    }

    [Fact]
    public void CsvUnknownTargetListsTheColumns()
    {
        var table = CsvTable.Load(WriteCsv(Pets));
        var e = Assert.Throws<DataException>(() => table.ToData(["lable"], TargetKind.Classification));
        Assert.Contains("unknown target column 'lable'", e.Message);
        Assert.Contains("Available columns: age, color, income, label", e.Message);
        var e2 = Assert.Throws<DataException>(() => table.ToData(["Label"], TargetKind.Classification));
        Assert.Contains("Did you mean 'label'?", e2.Message);
        Assert.Contains("regression target 'color' is not numeric", Assert.Throws<DataException>(() => table.ToData(["color"], TargetKind.Regression)).Message);
    }

    [Fact]
    public void CsvNonNumericCellInNumericColumnNamesRowColumnAndValue()
    {
        var path = WriteCsv("a,b,t\n1,2,0\n3,x7,1\n5,6,0\n7,8,1\n");
        var table = CsvTable.Load(path);
        var e = Assert.Throws<DataException>(() => table.ToData(["t"], TargetKind.Classification));
        Assert.Contains("column 'b' is numeric", e.Message);
        Assert.Contains("line 3 (data row 2)", e.Message);
        Assert.Contains("'x7'", e.Message);
        Assert.Contains(path, e.Message);
        Assert.Contains("CategoricalColumns", e.Message);
        // Not touching the bad column is fine; forcing it categorical one-hot encodes it.
        Assert.Equal(new[] { 4, 1 }, table.Features(["a"]).Shape);
        var forced = CsvTable.Load(path, new CsvOptions { CategoricalColumns = ["b"] });
        Assert.Equal(new[] { "b=2", "b=6", "b=8", "b=x7" }, forced.FeatureNames(["b"]));
    }

    [Fact]
    public void CsvRaggedRowReportsLineAndFieldCounts()
    {
        var e = Assert.Throws<DataException>(() => CsvTable.Load(WriteCsv("a,b,c,d\n1,2,3,4\n5,6,7\n")));
        Assert.Contains("line 3", e.Message);
        Assert.Contains("has 3 fields", e.Message);
        Assert.Contains("header has 4", e.Message);
        var e2 = Assert.Throws<DataException>(() => CsvTable.Load(WriteCsv("a,b\n1,2\n\n3,4,5\n")));
        Assert.Contains("line 4", e2.Message); // blank lines are skipped but still counted
    }

    [Fact]
    public void CsvEmptyAndHeaderOnlyFilesAreRejected()
    {
        Assert.Contains("empty", Assert.Throws<DataException>(() => CsvTable.Load(WriteCsv("", "empty.csv"))).Message);
        var e = Assert.Throws<DataException>(() => CsvTable.Load(WriteCsv("a,b,c\n", "header.csv")));
        Assert.Contains("no data rows", e.Message);
        Assert.Contains("a, b, c", e.Message);
        Assert.Contains("does not exist", Assert.Throws<DataException>(() => CsvTable.Load(Path.Combine(_dir, "nope.csv"))).Message);
        Assert.Contains("twice", Assert.Throws<DataException>(() => CsvTable.Load(WriteCsv("a,a\n1,2\n", "dup.csv"))).Message);
    }

    private const string WithMissing =
        "num,cat,y\n" +
        "1,u,0\n" +
        ",v,1\n" +
        "3,NA,0\n" +
        "NaN,v,1\n" +
        "5,v,0\n";

    [Fact]
    public void CsvMissingValuesAreErrorsByDefault()
    {
        var table = CsvTable.Load(WriteCsv(WithMissing));
        var e = Assert.Throws<DataException>(() => table.ToData(["y"], TargetKind.Classification));
        Assert.Contains("missing value in column 'num' at line 3 (data row 2)", e.Message);
        Assert.Contains("MissingValues", e.Message);
    }

    [Fact]
    public void CsvMissingValueOptionsFillOrDrop()
    {
        var path = WriteCsv(WithMissing);
        var mean = CsvTable.Load(path, new CsvOptions { MissingValues = MissingValueMode.Mean }).ToData(["y"], TargetKind.Classification);
        Assert.Equal(new[] { "num", "cat=u", "cat=v" }, mean.FeatureNames);
        // num: mean of 1, 3, 5 = 3; cat: most frequent category v.
        Assert.Equal(new float[] { 1, 1, 0, 3, 0, 1, 3, 0, 1, 3, 0, 1, 5, 0, 1 }, mean.Features.ToArray());

        var zero = CsvTable.Load(path, new CsvOptions { MissingValues = MissingValueMode.Zero }).ToData(["y"], TargetKind.Classification);
        Assert.Equal(new float[] { 1, 1, 0, 0, 0, 1, 3, 0, 0, 0, 0, 1, 5, 0, 1 }, zero.Features.ToArray());

        var drop = CsvTable.Load(path, new CsvOptions { MissingValues = MissingValueMode.Drop }).ToData(["y"], TargetKind.Classification);
        Assert.Equal(new[] { 2, 3 }, drop.Features.Shape);
        Assert.Equal(new long[] { 0, 0 }, drop.Targets.ToInt64Array());
        Assert.Equal(new[] { "0" }, drop.ClassNames);

        var custom = CsvTable.Load(WriteCsv("a,y\n1,0\n-999,1\n3,0\n", "custom.csv"), new CsvOptions { MissingTokens = ["-999"], MissingValues = MissingValueMode.Mean });
        Assert.Equal(new float[] { 1, 2, 3 }, custom.Features(["a"]).ToArray());
    }

    [Fact]
    public void CsvMissingTargetsAreNeverFilled()
    {
        var path = WriteCsv("a,y\n1,0\n2,\n3,1\n");
        var e = Assert.Throws<DataException>(() => CsvTable.Load(path, new CsvOptions { MissingValues = MissingValueMode.Mean }).ToData(["y"], TargetKind.Classification));
        Assert.Contains("missing value in target column 'y' at line 3", e.Message);
        var dropped = CsvTable.Load(path, new CsvOptions { MissingValues = MissingValueMode.Drop }).ToData(["y"], TargetKind.Classification);
        Assert.Equal(new float[] { 1, 3 }, dropped.Features.ToArray());
    }

    [Fact]
    public void CsvQuotedFieldsDelimitersAndInvariantNumbers()
    {
        var table = CsvTable.Load(WriteCsv("name;value;y\n\"Smith; J\";1.5;0\n\"O\"\"Neil\";-2e-1;1\n", "semi.csv"), new CsvOptions { Delimiter = ';' });
        Assert.Equal(new[] { "Smith; J", "O\"Neil" }, table.GetColumn("name"));
        Assert.Equal(new[] { 1.5f, -0.2f }, table.Features(["value"]).ToArray());
    }

    // ---------------------------------------------------------------- IDX

    private static byte[] IdxBytes(byte type, int[] dims, byte[] data)
    {
        var b = new byte[4 + 4 * dims.Length + data.Length];
        b[2] = type;
        b[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(b, 4 + 4 * dims.Length);
        return b;
    }

    private string WriteFile(string name, byte[] bytes, bool gzip = false)
    {
        var p = Path.Combine(_dir, name);
        if (!gzip) { File.WriteAllBytes(p, bytes); return p; }
        using var f = File.Create(p);
        using var gz = new GZipStream(f, CompressionLevel.Fastest);
        gz.Write(bytes);
        return p;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void IdxUnsignedBytesRoundTripPlainAndGzipped(bool gzip)
    {
        var pixels = Enumerable.Range(0, 12).Select(i => (byte)(i * 20)).ToArray();
        var path = WriteFile(gzip ? "img.idx.gz" : "img.idx", IdxBytes(0x08, [2, 3, 2], pixels), gzip);
        var raw = Idx.Read(path);
        Assert.Equal(DType.Int64, raw.DType);
        Assert.Equal(new[] { 2, 3, 2 }, raw.Shape);
        Assert.Equal(pixels.Select(p => (long)p), raw.ToInt64Array());
        var images = Idx.ReadImages(path);
        Assert.Equal(DType.Float32, images.DType);
        Assert.Equal(pixels.Select(p => p / 255f), images.ToArray());
        Assert.Equal(pixels.Select(p => (float)p), Idx.ReadImages(path, scale: false).ToArray());
        var labels = Idx.ReadLabels(WriteFile(gzip ? "lab.gz" : "lab", IdxBytes(0x08, [4], [3, 1, 4, 1]), gzip));
        Assert.Equal(new long[] { 3, 1, 4, 1 }, labels.ToInt64Array());
        Assert.Contains("1 dimension", Assert.Throws<DataException>(() => Idx.ReadLabels(path)).Message);
    }

    [Fact]
    public void IdxWiderTypesAreBigEndian()
    {
        var i16 = new byte[4];
        BinaryPrimitives.WriteInt16BigEndian(i16, -300);
        BinaryPrimitives.WriteInt16BigEndian(i16.AsSpan(2), 1000);
        Assert.Equal(new long[] { -300, 1000 }, Idx.Read(WriteFile("i16", IdxBytes(0x0B, [2], i16))).ToInt64Array());

        var i32 = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(i32, -70000);
        BinaryPrimitives.WriteInt32BigEndian(i32.AsSpan(4), 123456789);
        Assert.Equal(new long[] { -70000, 123456789 }, Idx.Read(WriteFile("i32", IdxBytes(0x0C, [1, 2], i32))).ToInt64Array());

        Assert.Equal(new long[] { -1, 127 }, Idx.Read(WriteFile("i8", IdxBytes(0x09, [2], [0xFF, 0x7F]))).ToInt64Array());

        var f32 = new byte[8];
        BinaryPrimitives.WriteSingleBigEndian(f32, 1.5f);
        BinaryPrimitives.WriteSingleBigEndian(f32.AsSpan(4), -0.25f);
        var tf = Idx.Read(WriteFile("f32", IdxBytes(0x0D, [2], f32)));
        Assert.Equal(DType.Float32, tf.DType);
        Assert.Equal(new[] { 1.5f, -0.25f }, tf.ToArray());

        var f64 = new byte[8];
        BinaryPrimitives.WriteDoubleBigEndian(f64, Math.PI);
        var td = Idx.Read(IdxBytes(0x0E, [1], f64));
        Assert.Equal(DType.Float64, td.DType);
        Assert.Equal(Math.PI, td.ToDoubleArray()[0]);
    }

    [Fact]
    public void IdxTruncatedOrInconsistentFilesAreRejected()
    {
        // Header says 3x3 bytes, only 8 follow.
        var e = Assert.Throws<DataException>(() => Idx.Read(WriteFile("short", IdxBytes(0x08, [3, 3], new byte[8]))));
        Assert.Contains("shape (3, 3)", e.Message);
        Assert.Contains("needs 9 bytes", e.Message);
        Assert.Contains("8 bytes follow", e.Message);
        // Extra trailing data is just as wrong.
        Assert.Contains("10 bytes follow", Assert.Throws<DataException>(() => Idx.Read(IdxBytes(0x08, [3, 3], new byte[10]))).Message);
        // Absurd dimensions fail before anything is allocated.
        var huge = IdxBytes(0x0E, [int.MaxValue, int.MaxValue, int.MaxValue], new byte[16]);
        Assert.Contains("more data than any file holds", Assert.Throws<DataException>(() => Idx.Read(huge)).Message);
        var negative = IdxBytes(0x08, [1], [7]);
        negative[4] = 0xFF; // dimension 0xFF000001
        Assert.Contains("larger than supported", Assert.Throws<DataException>(() => Idx.Read(negative)).Message);
        // Header cut short, bad magic, unknown type, corrupt gzip.
        Assert.Contains("declares 3 dimensions", Assert.Throws<DataException>(() => Idx.Read(new byte[] { 0, 0, 8, 3, 0, 0, 0, 1 })).Message);
        Assert.Contains("too short", Assert.Throws<DataException>(() => Idx.Read(new byte[] { 0, 0 })).Message);
        Assert.Contains("two zero bytes", Assert.Throws<DataException>(() => Idx.Read(new byte[] { 0x50, 0x4B, 8, 1, 0, 0, 0, 0 })).Message);
        Assert.Contains("unknown IDX element type 0x0A", Assert.Throws<DataException>(() => Idx.Read(new byte[] { 0, 0, 0x0A, 1, 0, 0, 0, 0 })).Message);
        Assert.Contains("not valid gzip", Assert.Throws<DataException>(() => Idx.Read(new byte[] { 0x1F, 0x8B, 8, 0, 1, 2, 3, 4, 5, 6, 7 })).Message);
        Assert.Contains("does not exist", Assert.Throws<DataException>(() => Idx.Read(Path.Combine(_dir, "missing.idx"))).Message);
    }

    // ---------------------------------------------------------------- Fashion-MNIST

    [Fact]
    public void FashionMnistAbsentFolderSaysHowToInstall()
    {
        var folder = Path.Combine(_dir, "no-such-folder");
        Assert.False(FashionMnist.IsAvailable(folder));
        var e = Assert.Throws<DataException>(() => FashionMnist.Load(folder));
        Assert.Contains("apt-get install dataset-fashion-mnist", e.Message);
        Assert.Contains(folder, e.Message);
        Assert.Contains("does not exist", e.Message);
        Directory.CreateDirectory(folder);
        Assert.Contains("no train-images-idx3-ubyte", Assert.Throws<DataException>(() => FashionMnist.Load(folder)).Message);
    }

    [Fact]
    public void FashionMnistLoadsAnyFolderWithTheStandardNames()
    {
        var folder = Path.Combine(_dir, "fm");
        Directory.CreateDirectory(folder);
        var pixels = new byte[3 * 28 * 28];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i % 256);
        File.WriteAllBytes(Path.Combine(folder, "t10k-images-idx3-ubyte"), IdxBytes(0x08, [3, 28, 28], pixels));
        WriteFile(Path.Combine("fm", "t10k-labels-idx1-ubyte.gz"), IdxBytes(0x08, [3], [9, 0, 4]), gzip: true);
        Assert.True(FashionMnist.IsAvailable(folder, train: false));
        Assert.False(FashionMnist.IsAvailable(folder, train: true));
        var ds = FashionMnist.Load(folder, train: false);
        Assert.Equal(3, ds.Count);
        Assert.Equal(new[] { 3, 784 }, ds.Features.Shape);
        Assert.Equal(new long[] { 9, 0, 4 }, ds.Targets.ToInt64Array());
        Assert.Equal(255 / 255f, ds.Features.ToArray()[255]);
        Assert.Equal("Ankle boot", ds.ClassNames![9]);
        File.WriteAllBytes(Path.Combine(folder, "t10k-labels-idx1-ubyte"), IdxBytes(0x08, [2], [1, 2]));
        Assert.Contains("3 images but", Assert.Throws<DataException>(() => FashionMnist.Load(folder, train: false)).Message);
    }

    [Fact]
    public void FashionMnistAvailabilityAgreesWithTheDefaultFolder()
    {
        bool present = File.Exists(Path.Combine(FashionMnist.DefaultFolder, "t10k-images-idx3-ubyte.gz")) || File.Exists(Path.Combine(FashionMnist.DefaultFolder, "t10k-images-idx3-ubyte"));
        Assert.Equal(present, FashionMnist.IsAvailable(train: false));
        if (!present) Assert.Throws<DataException>(() => FashionMnist.Load(train: false));
    }

    [SkippableFact]
    public void FashionMnistFromTheDebianPackageWhenInstalled()
    {
        Skip.IfNot(FashionMnist.IsAvailable(train: false) && FashionMnist.IsAvailable(train: true),
            $"Fashion-MNIST is not installed in {FashionMnist.DefaultFolder} (.ci/run installs it: apt-get install dataset-fashion-mnist)");
        var test = FashionMnist.Load(train: false);
        Assert.Equal(new[] { 10000, 784 }, test.Features.Shape);
        Assert.Equal(new[] { 10000 }, test.Targets.Shape);
        var x = test.Features.ToArray();
        Assert.InRange(x.Min(), 0f, 0f);
        Assert.InRange(x.Max(), 1f, 1f);
        var counts = test.Targets.ToInt64Array().GroupBy(v => v).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(10, counts.Count);
        Assert.All(counts.Values, c => Assert.Equal(1000, c)); // the test split is balanced
        var train = FashionMnist.Load();
        Assert.Equal(60000, train.Count);
        Assert.Equal(10, train.ClassNames!.Count);
    }

    // ---------------------------------------------------------------- embedded datasets

    [Fact]
    public void DigitsIsEmbedded()
    {
        var d = Datasets.Digits();
        Assert.Equal(new[] { 1797, 64 }, d.Features.Shape);
        Assert.Equal(DType.Float32, d.Features.DType);
        Assert.Equal(DType.Int64, d.Targets.DType);
        Assert.Equal(10, d.NumClasses);
        Assert.Equal(10, d.Targets.ToInt64Array().Distinct().Count());
        var x = d.Features.ToArray();
        Assert.Equal(0f, x.Min());
        Assert.Equal(16f, x.Max());
        Assert.Equal("pixel_7_7", d.FeatureNames[63]);
        // First sample of sklearn's load_digits is a 0.
        Assert.Equal(0, d.Targets.ToInt64Array()[0]);
        Assert.Equal(new float[] { 0, 0, 5, 13, 9, 1, 0, 0 }, x.Take(8));
        var ds = d.ToDataset();
        Assert.Equal(1797, ds.Count);
        Assert.Equal(64, new DataLoader(ds, 64).First().X.Size(1));
    }

    [Fact]
    public void BreastCancerIsEmbedded()
    {
        var d = Datasets.BreastCancer();
        Assert.Equal(new[] { 569, 30 }, d.Features.Shape);
        Assert.Equal(new[] { "malignant", "benign" }, d.ClassNames);
        var y = d.Targets.ToInt64Array();
        Assert.Equal(212, y.Count(v => v == 0));
        Assert.Equal(357, y.Count(v => v == 1));
        Assert.Equal(30, d.FeatureNames.Count);
        Assert.Equal("mean radius", d.FeatureNames[0]);
        Assert.Equal(17.99f, d.Features.ToArray()[0]);
    }

    [Fact]
    public void DiabetesIsEmbeddedRawOrScaledLikeSklearn()
    {
        var d = Datasets.Diabetes();
        Assert.Equal(new[] { 442, 10 }, d.Features.Shape);
        Assert.Equal(DType.Float32, d.Targets.DType);
        Assert.Equal(new[] { 442 }, d.Targets.Shape);
        Assert.Null(d.ClassNames);
        Assert.Equal(new float[] { 59, 2, 32.1f, 101, 157, 93.2f, 38, 4, 4.8598f, 87 }, d.Features.ToArray().Take(10));
        Assert.Equal(151f, d.Targets.ToArray()[0]);
        var s = Datasets.Diabetes(scaled: true).Features.ToArray();
        // sklearn.datasets.load_diabetes().data[0, :3]
        Assert.Equal(0.03807591, s[0], 1e-6);
        Assert.Equal(0.05068012, s[1], 1e-6);
        Assert.Equal(0.06169621, s[2], 1e-6);
        double sumSq = Enumerable.Range(0, 442).Sum(i => (double)s[i * 10] * s[i * 10]);
        Assert.Equal(1.0, sumSq, 1e-4);
    }

    [Fact]
    public void DatasetsLoadByName()
    {
        Assert.Equal(1797, Datasets.Load("digits").Count);
        Assert.Equal(569, Datasets.Load("breast_cancer").Count);
        Assert.Equal(569, Datasets.Load("Breast-Cancer").Count);
        Assert.Equal(442, Datasets.Load("diabetes").Count);
        var e = Assert.Throws<DataException>(() => Datasets.Load("iris"));
        Assert.Contains("'iris'", e.Message);
        Assert.Contains("digits, breast_cancer, diabetes", e.Message);
    }
}
