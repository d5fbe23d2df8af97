using Kindling.Data;

namespace Kindling.Tests;

/// <summary>Image-shaped datasets, the CIFAR-10 binary reader (on generated files), normalisation and seeded augmentation.</summary>
public class ImageDataTests
{
    [Fact]
    public void DigitsKeepTheirImageShape()
    {
        var img = ImageDatasets.Digits();
        var flat = Datasets.Digits();
        Assert.Equal([1, 8, 8], img.FeatureShape);
        Assert.Equal(1797, img.Count);
        Assert.Equal(flat.Features.ToArray(), img.Features.ToArray());
        Assert.Equal(flat.Targets.ToInt64Array(), img.Targets.ToInt64Array());
    }

    [SkippableFact]
    public void FashionMnistKeepsItsImageShape()
    {
        Skip.IfNot(FashionMnist.IsAvailable(train: false), "Fashion-MNIST is not installed (Debian: dataset-fashion-mnist; CI installs it)");
        var test = ImageDatasets.FashionMnist(train: false);
        Assert.Equal([1, 28, 28], test.FeatureShape);
        Assert.Equal(10000, test.Count);
        var (x, _) = test[0];
        Assert.Equal(FashionMnist.Load(train: false)[0].X.ToArray(), x.ToArray());
    }

    private static string CifarFolder(params (string Name, byte[] Bytes)[] files)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"kindling-cifar-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        foreach (var (n, b) in files) File.WriteAllBytes(Path.Combine(dir, n), b);
        return dir;
    }

    /// <summary>A CIFAR-10 binary batch whose record i has label (i·3) mod 10 and pixel p of channel c = (i + 7c + p) mod 256.</summary>
    private static byte[] Batch(int n, int first = 0)
    {
        var b = new byte[n * Cifar10.RecordSize];
        for (int i = 0; i < n; i++)
        {
            int k = first + i, rec = i * Cifar10.RecordSize;
            b[rec] = (byte)(k * 3 % 10);
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < 1024; p++) b[rec + 1 + c * 1024 + p] = (byte)((k + 7 * c + p) % 256);
        }
        return b;
    }

    [Fact]
    public void Cifar10BinaryBatchesAreReadAsChannelPlanes()
    {
        var dir = CifarFolder(
            ("data_batch_1.bin", Batch(3, 0)), ("data_batch_2.bin", Batch(2, 3)), ("data_batch_3.bin", Batch(1, 5)),
            ("data_batch_4.bin", Batch(2, 6)), ("data_batch_5.bin", Batch(1, 8)), ("test_batch.bin", Batch(4, 100)));
        try
        {
            var train = Cifar10.Load(dir);
            Assert.Equal(9, train.Count);
            Assert.Equal([3, 32, 32], train.FeatureShape);
            Assert.Equal(Enumerable.Range(0, 9).Select(k => (long)(k * 3 % 10)), train.Targets.ToInt64Array());
            var x = train.Features.ToArray();
            foreach (var (k, c, r, col) in new[] { (0, 0, 0, 0), (4, 1, 5, 17), (8, 2, 31, 31) })
                Assert.Equal((k + 7 * c + r * 32 + col) % 256 / 255f, x[((k * 3 + c) * 32 + r) * 32 + col]);
            var test = ImageDatasets.Cifar10(dir, train: false);
            Assert.Equal(4, test.Count);
            Assert.Equal(100 * 3 % 10, test.Targets.ToInt64Array()[0]);
            Assert.Equal("airplane", test.ClassNames![0]);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Cifar10ErrorsNameTheFileAndTheProblem()
    {
        var bad = Batch(2);
        bad[Cifar10.RecordSize] = 12;
        var dir = CifarFolder(("test_batch.bin", Batch(2)[..5000]), ("data_batch_1.bin", bad));
        try
        {
            var e = Assert.Throws<DataException>(() => Cifar10.Load(dir, train: false));
            Assert.Contains("test_batch.bin: 5000 bytes is not a whole number of CIFAR-10 records", e.Message);
            e = Assert.Throws<DataException>(() => Cifar10.Load(dir));
            Assert.Contains("data_batch_2.bin", e.Message);
            e = Assert.Throws<DataException>(() => Cifar10.ReadBatch(Path.Combine(dir, "data_batch_1.bin")));
            Assert.Contains("record 1 (byte offset 3073) has label 12", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void NormalizeFitsPerChannelStatistics()
    {
        var g = new Generator(3);
        var x = Tensor.Cat([Tensor.Randn([50, 1, 4, 4], g) * 2 + 5, Tensor.Randn([50, 1, 4, 4], g) * 0.5 - 1], 1);
        var norm = Normalize.Fit(x);
        Assert.InRange(norm.Mean[0], 4.6, 5.4);
        Assert.InRange(norm.Std[1], 0.4, 0.6);
        var y = norm.Apply(x);
        var ch = y.Permute(1, 0, 2, 3).Reshape(2, -1);
        foreach (var v in ch.Mean(1).ToArray()) Assert.Equal(0, v, 4);
        foreach (var v in ch.Var(1, correction: 0).ToArray()) Assert.Equal(1, v, 3);
        Assert.Throws<ArgumentException>(() => new Normalize([0.5], [0.0]));
        Assert.Throws<ArgumentException>(() => norm.Apply(Tensor.Zeros(2, 3, 4, 4)));
    }

    [Fact]
    public void RandomCropShiftsWithZeroFillAndFlipMirrors()
    {
        int h = 5, w = 6;
        var img = Enumerable.Range(1, 2 * h * w).Select(v => (float)v).ToArray();
        var seen = new HashSet<(int, int)>();
        var crop = new RandomCrop(2, new Generator(11));
        for (int t = 0; t < 200; t++)
        {
            var a = (float[])img.Clone();
            crop.Apply(a, 2, h, w);
            // Recover the shift from where pixel (2, 2) of channel 0 came from; every pixel must follow it.
            int dy = int.MaxValue, dx = 0;
            for (int sy = -2; sy <= 2 && dy == int.MaxValue; sy++)
                for (int sx = -2; sx <= 2; sx++)
                    if (a[2 * w + 2] == img[(2 + sy) * w + 2 + sx]) { dy = sy; dx = sx; break; }
            for (int c = 0; c < 2; c++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                    {
                        int sy = y + dy, sx = x + dx;
                        float want = sy >= 0 && sy < h && sx >= 0 && sx < w ? img[c * h * w + sy * w + sx] : 0;
                        Assert.Equal(want, a[c * h * w + y * w + x]);
                    }
            seen.Add((dy, dx));
        }
        Assert.Equal(25, seen.Count);

        var f = (float[])img.Clone();
        new RandomHorizontalFlip(1.0).Apply(f, 2, h, w);
        Assert.Equal(img.AsSpan(w - 1, 1)[0], f[0]);
        Assert.Equal(img[h * w + 2 * w], f[h * w + 2 * w + w - 1]);
        var same = (float[])img.Clone();
        new RandomHorizontalFlip(0.0).Apply(same, 2, h, w);
        Assert.Equal(img, same);
    }

    [Fact]
    public void AugmentedLoaderIsSeededAndKeepsShapes()
    {
        var data = ImageDatasets.Digits();
        (Tensor, Tensor)[] Epoch(ulong seed)
        {
            var aug = new TransformedDataset(data, new Compose(new RandomCrop(1, new Generator(seed)), new RandomHorizontalFlip(0.5, new Generator(seed + 1))));
            return new DataLoader(aug, 64, shuffle: true, generator: new Generator(seed)).Take(3).ToArray();
        }
        var a = Epoch(5);
        var b = Epoch(5);
        var c = Epoch(6);
        Assert.Equal([64, 1, 8, 8], a[0].Item1.Shape);
        for (int i = 0; i < 3; i++) Assert.Equal(a[i].Item1.ToArray(), b[i].Item1.ToArray());
        Assert.NotEqual(a[0].Item1.ToArray(), c[0].Item1.ToArray());
        var plain = new DataLoader(data, 64, shuffle: true, generator: new Generator(5)).First();
        Assert.Equal(plain.Y.ToInt64Array(), a[0].Item2.ToInt64Array());
        Assert.NotEqual(plain.X.ToArray(), a[0].Item1.ToArray());
        Assert.Throws<ArgumentException>(() => new TransformedDataset(Datasets.Digits().ToDataset(), new RandomHorizontalFlip()));
    }
}
