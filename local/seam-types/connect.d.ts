export * from 'seam-types-upstream/connect'
