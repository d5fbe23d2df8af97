using Kindling.Data;

namespace Kindling.Registry;

/// <summary>
/// A registered dataset: <see cref="Load"/>(train) gives its rows as flat features and targets (the training part, or
/// with <c>train: false</c> its official test set when <see cref="HasTestSplit"/>). Embedded datasets are in the assembly;
/// others are read from where their package installs them (<see cref="IsAvailable"/>).
/// </summary>
public sealed class DatasetEntry : ComponentEntry
{
    public required Func<bool, LabeledData> Load { get; init; }
    /// <summary>Shipped inside the Kindling assembly.</summary>
    public bool Embedded { get; init; }
    /// <summary>Has an official test set (loaded with <c>train: false</c>).</summary>
    public bool HasTestSplit { get; init; }
    /// <summary>Whether its files are present (always true when embedded).</summary>
    public Func<bool> IsAvailable { get; init; } = () => true;
}

public static partial class Components
{
    private static LabeledData FlatFashionMnist(bool train)
    {
        var d = FashionMnist.Load(null, train);
        return new(d.Features.Reshape(d.Count, -1), d.Targets, Enumerable.Range(0, 784).Select(i => $"pixel{i}").ToArray(), ["label"], FashionMnist.ClassNames);
    }

    /// <summary>The datasets known by name (what <c>kindling --data</c> accepts besides files and folders).</summary>
    public static ComponentTable<DatasetEntry> Datasets { get; } = new("dataset",
    [
        new() { Name = "digits", Help = "1,797 8×8 handwritten digits, 10 classes (scikit-learn's copy of the UCI set)", Embedded = true, Load = _ => Data.Datasets.Digits() },
        new() { Name = "breast_cancer", Help = "569 tumours, 30 features, benign or malignant (Wisconsin diagnostic)", Embedded = true, Load = _ => Data.Datasets.BreastCancer() },
        new() { Name = "diabetes", Help = "442 patients, 10 features, disease progression after a year (regression)", Embedded = true, Load = _ => Data.Datasets.Diabetes() },
        new()
        {
            Name = "fashion-mnist", Aliases = ["fashionmnist"], Help = "70,000 28×28 clothing images, 10 classes, official 10,000-image test set (Debian's dataset-fashion-mnist)",
            HasTestSplit = true, Load = FlatFashionMnist, IsAvailable = () => FashionMnist.IsAvailable(null, train: true),
        },
    ]);
}
