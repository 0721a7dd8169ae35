from .bridge import main

if __name__ == "__main__":
    main()
