"""Q6 variants: PCA bugs, and PCA written another correct way."""
from grader.variants import Variant

SVD = ('    mean = train_x.mean(axis=0)\n    _, _, vt = np.linalg.svd(train_x - mean, full_matrices=False)\n'
       '    return vt[:dim].T, mean\n')


def q6(old, new):
    return (('q6.py', old, new),)


VARIANTS = (
    Variant('q6-last-components', 'keeps the 32 directions of the SMALLEST singular values',
            q6('    return vt[:dim].T, mean\n', '    return vt[-dim:].T, mean\n'), ('6.2',)),
    Variant('q6-u-factor', 'takes columns of U (the examples side) instead of V',
            q6(SVD, '    mean = train_x.mean(axis=0)\n'
                    '    u, _, _ = np.linalg.svd(train_x - mean, full_matrices=False)\n'
                    '    return u[:, :dim], mean\n'), ('6.2',)),
    Variant('q6-rows-of-vt-as-columns', 'the first 32 COLUMNS of V^T (a 1024x32 block that is not the basis)',
            q6('    return vt[:dim].T, mean\n', '    return vt[:, :dim], mean\n'), ('6.2',)),
    Variant('q6-fixed-basis', 'the first 32 pixel axes whatever the data (np.eye(1024)[:, :32]): orthonormal, '
            'rank 32, yet no PCA; the reconstruction formula is right',
            q6(SVD, '    return np.eye(train_x.shape[1])[:, :dim], train_x.mean(axis=0)\n'), ('6.2',), partial=('6.2',),
            earns_nothing=('test_pca_projection_orthonormal_rank', 'test_pca_projection_spans_top_components',
                           'test_pca_validation_psnr')),
    Variant('q6-no-mean-back', 'reconstruction forgets to add the mean back',
            q6('    return (x - mean) @ P @ P.T + mean\n', '    return (x - mean) @ P @ P.T\n'), ('6.2',)),
)

CORRECT = (
    Variant('q6-uncentred', "the course's plain SVD of the data, without centring (mean returned as zeros)",
            q6(SVD, '    _, _, vt = np.linalg.svd(train_x, full_matrices=False)\n'
                    '    return vt[:dim].T, np.zeros(train_x.shape[1])\n'), (), ('6.2',)),
    Variant('q6-covariance-eigh', 'eigenvectors of the covariance matrix (np.linalg.eigh), largest first',
            q6(SVD, '    mean = train_x.mean(axis=0)\n    c = train_x - mean\n    w, v = np.linalg.eigh(c.T @ c)\n'
                    '    return v[:, ::-1][:, :dim], mean\n'), (), ('6.2',)),
)

VARIANTS = VARIANTS + CORRECT
