namespace Kindling.Data;

/// <summary>
/// CIFAR-10 in its binary distribution (<c>cifar-10-batches-bin</c>): 32×32 colour images in 10 classes, 50,000 for
/// training in <c>data_batch_1.bin</c> … <c>data_batch_5.bin</c> and 10,000 for testing in <c>test_batch.bin</c>. Each
/// record is 3,073 bytes: the label (0..9), then 1,024 red, 1,024 green and 1,024 blue bytes, each plane row-major.
/// Nothing is downloaded; pass the folder holding the files.
/// </summary>
public static class Cifar10
{
    /// <summary>Bytes per record: one label byte and 3×32×32 pixel bytes.</summary>
    public const int RecordSize = 1 + 3 * 32 * 32;

    /// <summary>The class of each label 0..9 (as in <c>batches.meta.txt</c>).</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>
    /// Loads the training split (the five data batches, in order) or, with <paramref name="train"/> false, the test batch
    /// from <paramref name="folder"/>: images (N, 3, 32, 32) float32 in [0, 1] (byte / 255) and int64 labels (N).
    /// </summary>
    /// <exception cref="DataException">A file is missing (the message lists what the folder should hold) or malformed.</exception>
    public static TensorDataset Load(string folder, bool train = true)
    {
        var (pixels, labels) = ReadAll(folder, train);
        var x = GC.AllocateUninitializedArray<float>(pixels.Length);
        Tensor.BytesToFloat(pixels, x, 255f);
        return new TensorDataset(Tensor.Wrap(x, [labels.Length, 3, 32, 32]), Tensor.Wrap(labels, [labels.Length])) { ClassNames = ClassNames };
    }

    /// <summary>
    /// Like <see cref="Load"/>, but the images stay bytes: uint8 (N, 3, 32, 32), 154 MB for the training split instead of
    /// 614 MB of float32, with <see cref="TensorDataset.FeatureDivisor"/> 255 so a <see cref="DataLoader"/> yields the
    /// same float32 batches in [0, 1], converted per batch.
    /// </summary>
    public static TensorDataset LoadBytes(string folder, bool train = true)
    {
        var (pixels, labels) = ReadAll(folder, train);
        return new TensorDataset(Tensor.FromBytes(pixels, labels.Length, 3, 32, 32), Tensor.Wrap(labels, [labels.Length])) { ClassNames = ClassNames, FeatureDivisor = 255f };
    }

    /// <summary>Every record of the split's files as one array of pixel bytes (N·3·32·32) and the labels (N): one copy.</summary>
    private static (byte[] Pixels, long[] Labels) ReadAll(string folder, bool train)
    {
        var names = train ? Enumerable.Range(1, 5).Select(i => $"data_batch_{i}.bin").ToArray() : ["test_batch.bin"];
        var missing = names.Where(n => !File.Exists(Path.Combine(folder, n))).ToList();
        if (missing.Count > 0)
            throw new DataException($"CIFAR-10 not found: the folder '{folder}' has no {string.Join(", ", missing)}. Download the binary version " +
                "(cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html), extract it and pass the cifar-10-batches-bin folder.");
        var parts = names.Select(n => ReadBatchBytes(Path.Combine(folder, n))).ToList();
        int total = parts.Sum(p => p.Labels.Length);
        var x = new byte[total * 3072];
        var y = new long[total];
        int at = 0;
        foreach (var (img, lab) in parts)
        {
            img.CopyTo(x, at * 3072);
            lab.CopyTo(y, at);
            at += lab.Length;
        }
        return (x, y);
    }

    /// <summary>Reads one batch file: pixels (N·3·32·32, scaled to [0, 1]) and labels (N).</summary>
    /// <exception cref="DataException">The file is empty, not a whole number of records, or holds a label above 9.</exception>
    public static (float[] Images, long[] Labels) ReadBatch(string path)
    {
        var (bytes, labels) = ReadBatchBytes(path);
        var images = new float[bytes.Length];
        Tensor.BytesToFloat(bytes, images, 255f);
        return (images, labels);
    }

    private static (byte[] Images, long[] Labels) ReadBatchBytes(string path)
    {
        byte[] bytes;
        // Checked before opening: reading a FIFO blocks until a writer appears.
        if (File.Exists(path) && Kindling.IO.FileKind.Of(path) is not Kindling.IO.FileType.Regular)
            throw new DataException($"{path}: {Kindling.IO.FileKind.NotRegular(path)}; a CIFAR-10 batch is read from disk.");
        try { bytes = File.ReadAllBytes(path); }
        catch (IOException e) { throw new DataException($"{path}: cannot read the CIFAR-10 batch: {e.Message}", e); }
        if (bytes.Length == 0 || bytes.Length % RecordSize != 0)
            throw new DataException($"{path}: {bytes.Length} bytes is not a whole number of CIFAR-10 records of {RecordSize} bytes (1 label + 3×32×32 pixels); the file is truncated or not the binary version (the Python version is pickled and cannot be read here).");
        int n = bytes.Length / RecordSize;
        var images = new byte[n * 3072];
        var labels = new long[n];
        for (int i = 0; i < n; i++)
        {
            int rec = i * RecordSize;
            if (bytes[rec] > 9) throw new DataException($"{path}: record {i} (byte offset {rec}) has label {bytes[rec]}, outside 0..9; is this a CIFAR-100 file (2 label bytes per record)?");
            labels[i] = bytes[rec];
            bytes.AsSpan(rec + 1, 3072).CopyTo(images.AsSpan(i * 3072, 3072));
        }
        return (images, labels);
    }
}
