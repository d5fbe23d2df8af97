namespace Kindling.Data;

/// <summary>
/// Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017): 28×28 grayscale images of clothing in 10 classes,
/// 60,000 for training and 10,000 for testing, read from IDX files on disk (nothing is downloaded).
/// </summary>
public static class FashionMnist
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package installs the files.</summary>
    public const string DefaultFolder = "/usr/share/datasets/fashion-mnist";

    /// <summary>The class of each label 0..9.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>True when both files of the split are present in <paramref name="folder"/> (<see cref="DefaultFolder"/> when null).</summary>
    public static bool IsAvailable(string? folder = null, bool train = true)
    {
        folder ??= DefaultFolder;
        var prefix = train ? "train" : "t10k";
        return Find(folder, prefix, "images", 3) is not null && Find(folder, prefix, "labels", 1) is not null;
    }

    /// <summary>
    /// Loads the training split (60,000 samples) or, with <paramref name="train"/> false, the test split (10,000) from
    /// <paramref name="folder"/> (default <see cref="DefaultFolder"/>), which must hold the standard files
    /// <c>train-images-idx3-ubyte</c>, <c>train-labels-idx1-ubyte</c>, <c>t10k-images-idx3-ubyte</c>,
    /// <c>t10k-labels-idx1-ubyte</c>, each optionally gzipped (<c>.gz</c>).
    /// </summary>
    /// <returns>Features (N, 784) float32 in [0, 1] (pixel / 255, row-major 28×28) and int64 labels (N), with <see cref="ClassNames"/>.</returns>
    /// <exception cref="DataException">The files are absent (the message says how to install them) or malformed.</exception>
    public static TensorDataset Load(string? folder = null, bool train = true) => LoadAs(folder, train, asBytes: false);

    /// <summary>
    /// Like <see cref="Load(string?, bool)"/>, but the images stay bytes: features are uint8 (N, 784), 47 MB for the
    /// training split instead of 188 MB of float32, with <see cref="TensorDataset.FeatureDivisor"/> 255 so a
    /// <see cref="DataLoader"/> yields the same float32 batches in [0, 1] (converted per batch, bit for bit
    /// <c>img.float().div(255)</c>).
    /// </summary>
    public static TensorDataset LoadBytes(string? folder = null, bool train = true) => LoadAs(folder, train, asBytes: true);

    private static TensorDataset LoadAs(string? folder, bool train, bool asBytes)
    {
        folder ??= DefaultFolder;
        var prefix = train ? "train" : "t10k";
        var imagesPath = Find(folder, prefix, "images", 3);
        var labelsPath = Find(folder, prefix, "labels", 1);
        if (imagesPath is null || labelsPath is null)
        {
            var missing = imagesPath is null ? $"{prefix}-images-idx3-ubyte[.gz]" : $"{prefix}-labels-idx1-ubyte[.gz]";
            var where = Directory.Exists(folder) ? $"the folder '{folder}' has no {missing}" : $"the folder '{folder}' does not exist";
            throw new DataException(
                $"Fashion-MNIST not found: {where}. On Debian/Ubuntu install it with `sudo apt-get install dataset-fashion-mnist` " +
                $"(it goes to {DefaultFolder}), or download the four files from https://github.com/zalandoresearch/fashion-mnist " +
                "and pass their folder: FashionMnist.Load(\"path/to/folder\").");
        }
        var images = asBytes ? Idx.ReadBytes(imagesPath) : Idx.ReadImages(imagesPath, scale: true);
        var labels = Idx.ReadLabels(labelsPath);
        if (images.Rank != 3 || images.Size(1) != 28 || images.Size(2) != 28)
            throw new DataException($"{imagesPath}: expected images of shape (N, 28, 28), got {images.ShapeString}.");
        int n = images.Size(0);
        if (n == 0) throw new DataException($"{imagesPath}: the IDX file holds 0 images.");
        if (labels.Size(0) != n)
            throw new DataException($"Fashion-MNIST: {imagesPath} has {n} images but {labelsPath} has {labels.Size(0)} labels.");
        foreach (long l in labels.DenseData<long>())
            if ((ulong)l > 9) throw new DataException($"{labelsPath}: label {l} is outside 0..9.");
        return new TensorDataset(images.Reshape(n, 28 * 28), labels) { ClassNames = ClassNames, FeatureDivisor = asBytes ? 255f : 1f };
    }

    private static string? Find(string folder, string prefix, string kind, int ndim)
    {
        // The original distribution uses dashes; some mirrors (and the classic MNIST site) use a dot before "idx".
        foreach (var name in new[] { $"{prefix}-{kind}-idx{ndim}-ubyte", $"{prefix}-{kind}.idx{ndim}-ubyte" })
            foreach (var ext in new[] { "", ".gz" })
            {
                var p = Path.Combine(folder, name + ext);
                if (File.Exists(p)) return p;
            }
        return null;
    }
}
